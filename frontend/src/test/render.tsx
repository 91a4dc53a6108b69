import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { vi } from 'vitest';
import { Controller, ControllerContext } from '../store/controller';
import { initialState, type AppState } from '../store/state';
import { createStore, StoreContext } from '../store/store';

/** Render with a real store and a Controller whose network side is stubbed. */
export function renderWithApp(ui: ReactElement, state: Partial<AppState> = {}, api: Record<string, unknown> = {}) {
  const store = createStore(initialState({ auth: { status: 'authenticated', user: { id: 1, username: 'ann' } }, ...state }));
  const controller = new Controller(store, { api: api as never, storage: null });
  const spies = {
    setMood: vi.spyOn(controller, 'setMood').mockImplementation(() => undefined),
    next: vi.spyOn(controller, 'next').mockImplementation(() => undefined),
    like: vi.spyOn(controller, 'like').mockImplementation(() => undefined),
    previous: vi.spyOn(controller, 'previous').mockImplementation(() => undefined),
    playNow: vi.spyOn(controller, 'playNow').mockImplementation(() => undefined),
    dislike: vi.spyOn(controller, 'dislike').mockImplementation(() => undefined),
    togglePlay: vi.spyOn(controller, 'togglePlay').mockImplementation(() => undefined),
    retryConnection: vi.spyOn(controller, 'retryConnection').mockImplementation(() => undefined),
  };
  const result = render(
    <StoreContext.Provider value={store}>
      <ControllerContext.Provider value={controller}>{ui}</ControllerContext.Provider>
    </StoreContext.Provider>,
  );
  return { ...result, store, controller, spies };
}

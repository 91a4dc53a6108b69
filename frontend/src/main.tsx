import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { installPlayerHook } from './store/playerHook';
import { installSyncHook } from './sync/testHook';
import { Controller, ControllerContext } from './store/controller';
import { createStore, StoreContext } from './store/store';
import './styles.css';

const store = createStore();
const controller = new Controller(store);
void controller.boot();
installPlayerHook(controller);
installSyncHook(controller);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <ControllerContext.Provider value={controller}>
        <App />
      </ControllerContext.Provider>
    </StoreContext.Provider>
  </StrictMode>,
);

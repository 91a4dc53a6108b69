import { useEffect } from 'react';
import { Header } from './components/Header';
import { MOOD_TEXT_ID } from './components/MoodPanel';
import { Toasts } from './components/Toasts';
import { navigate, usePath } from './lib/router';
import { useShortcuts } from './lib/useShortcuts';
import { codeFromPath } from './groups/link';
import { HistoryPage } from './pages/HistoryPage';
import { JoinPage } from './pages/JoinPage';
import { LoginPage } from './pages/LoginPage';
import { PlayerPage } from './pages/PlayerPage';
import { useController } from './store/controller';
import { useAppState } from './store/store';

export function App() {
  const c = useController();
  const auth = useAppState((s) => s.auth.status);
  const path = usePath();
  const authed = auth === 'authenticated';
  const joinCode = codeFromPath(path);
  useShortcuts(c, MOOD_TEXT_ID, authed && path !== '/history');

  useEffect(() => {
    if (authed && path === '/login') navigate('/', true);
  }, [authed, path]);

  let body;
  if (auth === 'unknown') {
    body = (
      <main className="splash" data-testid="splash" aria-busy="true">
        <p className="muted">Loading…</p>
      </main>
    );
  } else if (auth === 'unreachable') {
    body = (
      <main className="splash" data-testid="unreachable">
        <p>Cannot reach the server.</p>
        <button type="button" className="btn" onClick={() => void c.checkSession()}>
          Try again
        </button>
      </main>
    );
  } else if (!authed) {
    body = <LoginPage />;
  } else {
    body = (
      <>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <Header />
        {joinCode !== null ? <JoinPage code={joinCode} /> : path === '/history' ? <HistoryPage /> : <PlayerPage />}
      </>
    );
  }
  return (
    <>
      {body}
      <Toasts />
    </>
  );
}

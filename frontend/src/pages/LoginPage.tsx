import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { useController } from '../store/controller';
import { ThemeToggle } from '../components/ThemeToggle';

type Mode = 'login' | 'register';

function explain(err: unknown, mode: Mode): string {
  if (err instanceof ApiError) {
    if (err.message && err.code !== `http_${err.status}`) return err.message;
    switch (err.code) {
      case 'invalid_credentials':
        return 'Wrong username or password.';
      case 'username_taken':
        return 'That username is taken. Pick another one.';
      case 'rate_limited':
        return `Too many attempts. Try again${err.retryAfterS !== null ? ` in ${err.retryAfterS} s` : ' later'}.`;
      default:
        return err.message || (mode === 'login' ? 'Could not log in.' : 'Could not create the account.');
    }
  }
  return 'Something went wrong. Please try again.';
}

export function LoginPage() {
  const c = useController();
  const [mode, setMode] = useState<Mode>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError('Enter a username and a password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (mode === 'login') await c.login(username.trim(), password);
      else await c.register(username.trim(), password);
    } catch (err) {
      setError(explain(err, mode));
      setBusy(false);
    }
  };

  const switchTo = (m: Mode) => {
    setMode(m);
    setError(null);
  };

  return (
    <main className="auth" data-testid="login-page">
      <div className="auth__card panel">
        <div className="row between">
          <h1 className="brand brand--big">
            <img src="/favicon.svg" alt="" width={36} height={36} /> musicrec
          </h1>
          <ThemeToggle />
        </div>
        <p className="muted">Music that follows your mood, live.</p>
        <div className="tabs" role="tablist" aria-label="Account">
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'login'}
            className="tab"
            onClick={() => switchTo('login')}
            data-testid="tab-login"
          >
            Log in
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'register'}
            className="tab"
            onClick={() => switchTo('register')}
            data-testid="tab-register"
          >
            Create account
          </button>
        </div>
        <form onSubmit={submit} className="form" aria-label={mode === 'login' ? 'Log in' : 'Create account'} noValidate>
          <label>
            Username
            <input
              name="username"
              autoComplete="username"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              required
              maxLength={64}
              data-testid="username"
            />
          </label>
          <label>
            Password
            <input
              name="password"
              type="password"
              autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
              data-testid="password"
            />
          </label>
          {error && (
            <p className="field-error" role="alert" data-testid="auth-error">
              {error}
            </p>
          )}
          <button type="submit" className="btn btn--accent btn--block" disabled={busy} data-testid="auth-submit">
            {busy ? 'Please wait…' : mode === 'login' ? 'Log in' : 'Create account'}
          </button>
        </form>
      </div>
    </main>
  );
}

import { useState, type FormEvent, type ReactNode } from 'react';
import { useController } from '../store/controller';
import type { ConnectError } from '../store/librariesState';
import { useAppState } from '../store/store';
import type { ConnectLibraryRequest } from '../types';

type SecretKind = 'password' | 'api_key';

export const LIBRARY_URL_INPUT_ID = 'library-url';

/** `an administrator can connect it with `musicrec library add`` → text with <code> spans. */
function withCode(text: string): ReactNode[] {
  return text.split('`').map((part, i) => (i % 2 ? <code key={i}>{part}</code> : part));
}

/** What is missing or malformed before anything is sent. */
function checkForm(url: string, username: string, secret: string, kind: SecretKind): ConnectError | null {
  const local = (detail: string, field: ConnectError['field']): ConnectError => ({
    code: 'form',
    title: 'Some of the details are missing.',
    detail,
    field,
  });
  if (!/^https?:\/\/\S+$/i.test(url)) return local("Enter the server's full address, starting with http:// or https://.", 'url');
  if (!username) return local('Enter the username you log in to the music server with.', 'username');
  if (!secret) return local(kind === 'api_key' ? 'Enter the API key.' : 'Enter the password.', 'secret');
  return null;
}

/** Connect a Subsonic-compatible server (Navidrome, Jellyfin, Gonic, …): POST /api/libraries. */
export function LibraryConnectForm() {
  const c = useController();
  const connect = useAppState((s) => s.libraries.connect);
  const [url, setUrl] = useState('');
  const [username, setUsername] = useState('');
  // Kept only in this form while it is typed: sent once, then cleared.
  const [secret, setSecret] = useState('');
  const [kind, setKind] = useState<SecretKind>('password');
  const [formError, setFormError] = useState<ConnectError | null>(null);

  const connecting = connect.status === 'connecting';
  const error = formError ?? (connect.status === 'failed' ? connect.error : null);
  const invalid = (field: ConnectError['field']) => (error?.field === field ? true : undefined);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (connecting) return;
    const cleanUrl = url.trim();
    const cleanUser = username.trim();
    const given = secret;
    setSecret('');
    const problem = checkForm(cleanUrl, cleanUser, given, kind);
    setFormError(problem);
    if (problem) return;
    const base = { kind: 'subsonic' as const, url: cleanUrl, username: cleanUser };
    const request: ConnectLibraryRequest = kind === 'api_key' ? { ...base, api_key: given } : { ...base, password: given };
    if (await c.libraries.connect(request)) {
      setUrl('');
      setUsername('');
    }
  };

  const secretLabel = kind === 'api_key' ? 'API key' : 'Password';
  return (
    <form
      className="form library-form"
      onSubmit={submit}
      aria-label="Connect a music library"
      aria-busy={connecting || undefined}
      noValidate
      data-testid="library-form"
    >
      <label>
        Server address
        <input
          id={LIBRARY_URL_INPUT_ID}
          type="url"
          inputMode="url"
          placeholder="https://music.example.org"
          autoComplete="off"
          spellCheck={false}
          maxLength={500}
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          aria-invalid={invalid('url')}
          data-testid="library-url"
        />
      </label>
      <label>
        Username
        <input
          autoComplete="off"
          spellCheck={false}
          maxLength={200}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          aria-invalid={invalid('username')}
          data-testid="library-username"
        />
      </label>
      <fieldset className="library-form__kind">
        <legend className="small">Sign in with</legend>
        <label className="check">
          <input
            type="radio"
            name="library-secret-kind"
            checked={kind === 'password'}
            onChange={() => setKind('password')}
            data-testid="library-kind-password"
          />
          Password
        </label>
        <label className="check">
          <input
            type="radio"
            name="library-secret-kind"
            checked={kind === 'api_key'}
            onChange={() => setKind('api_key')}
            data-testid="library-kind-api-key"
          />
          API key
        </label>
      </fieldset>
      <label>
        {secretLabel}
        <input
          type="password"
          autoComplete="new-password"
          maxLength={500}
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          aria-invalid={invalid('secret')}
          aria-describedby="library-secret-hint"
          data-testid="library-secret"
        />
      </label>
      <p id="library-secret-hint" className="small muted">
        Sent once to this musicrec server, which keeps it to play from your library; this browser does not keep it.
        Use an API key or a dedicated account where you can.
      </p>
      {error && (
        <div className="field-error" role="alert" data-testid="library-connect-error" data-code={error.code}>
          <strong>{error.title}</strong>
          {error.detail && <span className="library-form__detail"> {withCode(error.detail)}</span>}
        </div>
      )}
      {connecting && (
        <p className="small" role="status" data-testid="library-connecting">
          Connecting: checking the address and the sign-in with your server…
        </p>
      )}
      {connect.status === 'connected' && !formError && (
        <p className="small library-form__ok" role="status" data-testid="library-connected">
          Connected. The first sync has started: its progress shows in the list above.
        </p>
      )}
      <button type="submit" className="btn btn--accent" disabled={connecting} data-testid="library-connect">
        {connecting ? 'Connecting…' : 'Connect'}
      </button>
    </form>
  );
}

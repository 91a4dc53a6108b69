// /join/<code>: join the group and land in its player. Logged-out visitors see the login page
// first (App keeps the path), and come here once logged in.
import { useEffect, useState } from 'react';
import { navigate } from '../lib/router';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';

export function JoinPage({ code }: { code: string }) {
  const c = useController();
  const error = useAppState((s) => s.group.error);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let live = true;
    void c.groups.joinByCode(code).then((ok) => {
      if (!live) return;
      if (ok) navigate('/', true);
      else setFailed(true);
    });
    return () => {
      live = false;
    };
  }, [c, code]);

  return (
    <main className="splash" id="main" data-testid="join-page" data-code={code}>
      {failed ? (
        <>
          <p className="field-error" role="alert" data-testid="join-error">
            {error ?? 'Could not join that group.'}
          </p>
          <button type="button" className="btn" onClick={() => navigate('/', true)}>
            Go to your player
          </button>
        </>
      ) : (
        <p className="muted" aria-busy="true">
          Joining the group {code}…
        </p>
      )}
    </main>
  );
}

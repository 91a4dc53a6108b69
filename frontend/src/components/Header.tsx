import { navigate, usePath } from '../lib/router';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';
import { ConnectionBadge } from './ConnectionBadge';
import { ThemeToggle } from './ThemeToggle';

function NavLink({ to, children }: { to: string; children: string }) {
  const path = usePath();
  return (
    <a
      href={to}
      className="nav__link"
      aria-current={path === to ? 'page' : undefined}
      data-testid={`nav-${children.toLowerCase()}`}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function Header() {
  const c = useController();
  const user = useAppState((s) => s.auth.user);
  return (
    <header className="header">
      <a href="/" className="brand" onClick={(e) => { e.preventDefault(); navigate('/'); }}>
        <img src="/favicon.svg" alt="" width={28} height={28} />
        <span>musicrec</span>
      </a>
      <nav className="nav" aria-label="Main">
        <NavLink to="/">Player</NavLink>
        <NavLink to="/history">History</NavLink>
      </nav>
      <div className="header__right">
        <ConnectionBadge />
        <ThemeToggle />
        {user && (
          <span className="user" data-testid="current-user">
            <span className="visually-hidden">Signed in as </span>
            {user.username}
          </span>
        )}
        <button type="button" className="btn btn--ghost btn--small" onClick={() => void c.logout()} data-testid="logout">
          Log out
        </button>
      </div>
    </header>
  );
}

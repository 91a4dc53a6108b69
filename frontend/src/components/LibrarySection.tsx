import { useEffect } from 'react';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';
import { LibraryConnectForm } from './LibraryConnectForm';
import { LibraryList } from './LibraryList';

/** The anchor the "nothing can play here" notice links to. */
export const LIBRARY_SECTION_ID = 'your-library';

/** "Your music library": the connected servers, and a form to connect one. */
export function LibrarySection() {
  const c = useController();
  const unavailable = useAppState((s) => s.libraries.status === 'unavailable');
  useEffect(() => c.libraries.watch(), [c]);
  return (
    <section id={LIBRARY_SECTION_ID} className="library-section" aria-labelledby="library-heading" data-testid="library-section">
      <h3 id="library-heading">Your music library</h3>
      {unavailable ? (
        <p className="small muted" data-testid="library-unavailable">
          This server cannot connect music libraries.
        </p>
      ) : (
        <>
          <p className="small muted">
            Connect the music server you already run (Navidrome, Jellyfin, Gonic, Airsonic or any Subsonic server): its
            songs join the catalog and play here.
          </p>
          <LibraryList />
          <LibraryConnectForm />
        </>
      )}
    </section>
  );
}

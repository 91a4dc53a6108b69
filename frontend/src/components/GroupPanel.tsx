// "Listen together": start a group or join one by code; in a group, its code, link and QR
// code, the members (presence, host, you), the host's controls, skip votes and Leave.
import { useState, type FormEvent } from 'react';
import { joinUrl } from '../groups/link';
import { QrCode } from '../groups/QrCode';
import { sameUser, type CreateGroupRequest, type Group, type GroupMember } from '../groups/types';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';
import type { Mood } from '../types';

/** A new group starts in its host's mood, as the host picked it: a preset, words, or the pad. */
export function startingMood(mood: Mood | null): Pick<CreateGroupRequest, 'mood' | 'text' | 'energy' | 'valence'> {
  if (!mood) return {};
  if (mood.preset) return { mood: mood.preset };
  if (mood.text) return { text: mood.text };
  if (mood.energy != null && mood.valence != null) return { energy: mood.energy, valence: mood.valence };
  return {};
}

function StartOrJoin() {
  const c = useController();
  const busy = useAppState((s) => s.group.busy);
  const error = useAppState((s) => s.group.error);
  const notice = useAppState((s) => s.group.notice);
  const mood = useAppState((s) => s.mood);
  const [name, setName] = useState('');
  const [guestControls, setGuestControls] = useState(false);
  const [code, setCode] = useState('');

  const start = (e: FormEvent) => {
    e.preventDefault();
    c.engine.unlock();
    void c.groups.create({
      ...(name.trim() ? { name: name.trim().slice(0, 80) } : {}),
      ...startingMood(mood),
      guest_controls: guestControls,
    });
  };
  const join = (e: FormEvent) => {
    e.preventDefault();
    c.engine.unlock();
    void c.groups.joinByCode(code);
  };

  return (
    <>
      {notice && (
        <p className="notice" role="status" data-testid="group-notice">
          {notice}
        </p>
      )}
      <form className="form group__form" onSubmit={start} aria-label="Start a group" data-testid="group-start-form">
        <label>
          Group name
          <input
            value={name}
            maxLength={80}
            placeholder="Friday office"
            onChange={(e) => setName(e.target.value)}
            data-testid="group-name"
          />
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={guestControls}
            onChange={(e) => setGuestControls(e.target.checked)}
            data-testid="group-guest-controls"
          />{' '}
          Guests may pause, seek and skip
        </label>
        <button type="submit" className="btn btn--accent" disabled={busy} data-testid="group-start">
          Start a group
        </button>
      </form>
      <form className="form group__form" onSubmit={join} aria-label="Join a group" data-testid="group-join-form">
        <label>
          Code
          <input
            value={code}
            maxLength={12}
            autoComplete="off"
            autoCapitalize="characters"
            spellCheck={false}
            placeholder="K7MQ2X"
            onChange={(e) => setCode(e.target.value)}
            data-testid="group-code-input"
          />
        </label>
        <button type="submit" className="btn" disabled={busy || !code.trim()} data-testid="group-join">
          Join
        </button>
      </form>
      {error && (
        <p className="field-error" role="alert" data-testid="group-error">
          {error}
        </p>
      )}
    </>
  );
}

function CopyLink({ url }: { url: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      window.prompt('Copy this link', url);
    }
  };
  return (
    <button type="button" className="btn btn--small" onClick={() => void copy()} data-testid="group-copy-link">
      {copied ? 'Copied' : 'Copy link'}
    </button>
  );
}

function MemberRow({ m, group, me, iAmHost }: { m: GroupMember; group: Group; me: boolean; iAmHost: boolean }) {
  const c = useController();
  const isHost = m.role === 'host' || sameUser(m.user, group.host);
  return (
    <li
      className="group__member"
      data-testid="group-member"
      data-user-id={m.user.id}
      data-present={m.present ? 'true' : 'false'}
      data-role={isHost ? 'host' : 'guest'}
    >
      <span className={`presence ${m.present ? 'presence--on' : ''}`} aria-hidden="true" />
      <span className="group__member-name">{m.user.username}</span>
      {isHost && (
        <span className="badge" data-testid="host-badge">
          host
        </span>
      )}
      {me && (
        <span className="badge badge--you" data-testid="you-badge">
          you
        </span>
      )}
      <span className="muted small">{m.present ? 'listening' : 'away'}</span>
      {iAmHost && !me && (
        <span className="group__member-actions">
          <button
            type="button"
            className="btn btn--small btn--ghost"
            onClick={() => void c.groups.makeHost(m.user.id)}
            data-testid="member-make-host"
            aria-label={`Make ${m.user.username} the host`}
          >
            Make host
          </button>
          <button
            type="button"
            className="btn btn--small btn--ghost btn--danger"
            onClick={() => void c.groups.removeMember(m.user.id)}
            data-testid="member-remove"
            aria-label={`Remove ${m.user.username}`}
          >
            Remove
          </button>
        </span>
      )}
    </li>
  );
}

function SkipControl({ group, canControl }: { group: Group; canControl: boolean }) {
  const c = useController();
  const nowId = useAppState((s) => s.nowPlaying?.id ?? null);
  if (canControl) {
    return (
      <button type="button" className="btn btn--small" onClick={() => c.groups.skip()} data-testid="group-skip" disabled={nowId === null}>
        Skip
      </button>
    );
  }
  const votes = group.skip_votes && group.skip_votes.track_id === nowId ? group.skip_votes : null;
  return (
    <button
      type="button"
      className="btn btn--small"
      onClick={() => c.groups.voteSkip()}
      disabled={nowId === null}
      data-testid="vote-skip"
      data-votes={votes?.votes ?? 0}
      data-needed={votes?.needed ?? ''}
    >
      Vote skip{votes ? ` (${votes.votes}/${votes.needed})` : ''}
    </button>
  );
}

function InGroup({ group }: { group: Group }) {
  const c = useController();
  const user = useAppState((s) => s.auth.user);
  const busy = useAppState((s) => s.group.busy);
  const error = useAppState((s) => s.group.error);
  const iAmHost = sameUser(group.host, user);
  const canControl = iAmHost || group.guest_controls;
  const url = joinUrl(group);
  const present = group.members.filter((m) => m.present).length;

  return (
    <div data-testid="group-active" data-group-id={group.id} data-role={iAmHost ? 'host' : 'guest'}>
      <p className="group__name" data-testid="group-title">
        {group.name || 'Listening together'}
      </p>
      <div className="group__share">
        <div>
          <p className="muted small">Code</p>
          <p className="group__code" data-testid="group-code">
            {group.code}
          </p>
          <p className="group__link small">
            <a href={url} data-testid="group-link">
              {url}
            </a>
          </p>
          <CopyLink url={url} />
        </div>
        <QrCode text={url} size={128} label={`QR code of the link to join ${group.name || 'the group'}`} />
      </div>
      <div className="row between">
        <h3 className="small">
          Members <span className="muted">({present} listening of {group.members.length}, up to {group.limit})</span>
        </h3>
        <SkipControl group={group} canControl={canControl} />
      </div>
      <ul className="group__members" aria-label="Members" data-testid="group-members">
        {group.members.map((m) => (
          <MemberRow key={String(m.user.id)} m={m} group={group} me={sameUser(m.user, user)} iAmHost={iAmHost} />
        ))}
      </ul>
      {iAmHost ? (
        <label className="check small">
          <input
            type="checkbox"
            checked={group.guest_controls}
            onChange={(e) => void c.groups.setGuestControls(e.target.checked)}
            data-testid="group-guest-controls-toggle"
          />{' '}
          Guests may pause, seek and skip
        </label>
      ) : (
        <p className="muted small" data-testid="group-controls-note">
          {group.guest_controls ? 'Everyone may pause, seek and skip.' : `${group.host.username} runs the music; vote to skip.`}
        </p>
      )}
      <div className="row gap">
        <button type="button" className="btn btn--small" onClick={() => void c.groups.leave()} disabled={busy} data-testid="group-leave">
          Leave
        </button>
        {iAmHost && (
          <button
            type="button"
            className="btn btn--small btn--danger"
            onClick={() => void c.groups.end()}
            disabled={busy}
            data-testid="group-end"
          >
            End group
          </button>
        )}
      </div>
      {error && (
        <p className="field-error" role="alert" data-testid="group-error">
          {error}
        </p>
      )}
    </div>
  );
}

export function GroupPanel() {
  const group = useAppState((s) => s.group.group);
  return (
    <section className="panel group" aria-labelledby="group-heading" data-testid="group-panel">
      <div className="panel__head">
        <h2 id="group-heading">Listen together</h2>
      </div>
      {group ? <InGroup group={group} /> : <StartOrJoin />}
    </section>
  );
}

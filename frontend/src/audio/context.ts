// One shared Web Audio context, created and resumed inside a user gesture
// (browsers keep audio suspended until the listener interacts with the page).
let ctx: AudioContext | null = null;

type Ctor = typeof AudioContext;

export function unlockAudio(): AudioContext | null {
  if (typeof window === 'undefined') return null;
  const C: Ctor | undefined =
    window.AudioContext ?? (window as unknown as { webkitAudioContext?: Ctor }).webkitAudioContext;
  if (!C) return null;
  if (!ctx) {
    try {
      ctx = new C({ latencyHint: 'playback' });
    } catch {
      return null;
    }
  }
  if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
  return ctx;
}

export function sharedAudioContext(): AudioContext | null {
  return ctx ?? unlockAudio();
}

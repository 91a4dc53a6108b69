// How the HTTP API's failures reach the player: ApiError (status, the server's error code and
// message), built from any answer's body, and the one listener told about a lost session.
// No imports: both the JSON client and the upload use it.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterS: number | null;

  constructor(status: number, code: string, message: string, retryAfterS: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterS = retryAfterS;
  }
}

type UnauthorizedListener = () => void;
let onUnauthorized: UnauthorizedListener | null = null;

/** Called when any call (other than the auth calls themselves) answers 401. */
export function setUnauthorizedHandler(fn: UnauthorizedListener | null): void {
  onUnauthorized = fn;
}

/** A call (other than the auth calls themselves) answered 401: tell the listener. */
export function notifyUnauthorized(): void {
  onUnauthorized?.();
}

function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, Math.ceil(secs));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** The ApiError for a failed answer: the server's `{"error": {"code", "message"}}` when the body is one. */
export function apiErrorFrom(status: number, statusText: string, body: string, retryAfterHeader: string | null): ApiError {
  const retryAfter = parseRetryAfter(retryAfterHeader);
  let code = `http_${status}`;
  let message = statusText || `Request failed (${status})`;
  try {
    const data = JSON.parse(body) as { error?: { code?: string; message?: string } };
    if (data?.error) {
      code = data.error.code ?? code;
      message = data.error.message ?? message;
    }
  } catch {
    // Not JSON (e.g. a proxy error page): keep the generic message.
  }
  if (status === 429 && retryAfter !== null && !/\d+\s*s/.test(message)) {
    message = `${message} Try again in ${retryAfter} s.`;
  }
  return new ApiError(status, code, message, retryAfter);
}

/** What fetch's failure means for the listener. */
export const NETWORK_ERROR_MESSAGE = 'Cannot reach the server. Check your connection and try again.';


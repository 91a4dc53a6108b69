// A file upload with progress: XMLHttpRequest, because fetch reports no upload progress.
// The file goes as the multipart part `file` (its name helps the server tell formats apart).
// Failures are the same ApiError the JSON client throws: the server's code and message when
// it answered, `network_error` when the connection failed (a server that refuses a too-big
// body may close it before the browser has sent it all), `aborted` when the caller cancelled.
import { apiErrorFrom, ApiError, NETWORK_ERROR_MESSAGE, notifyUnauthorized } from './errors';

export interface UploadProgress {
  /** Bytes sent so far, and the request's total (the multipart body is a little bigger than the file). */
  loaded: number;
  total: number;
}

export interface UploadOptions {
  onProgress?: (progress: UploadProgress) => void;
  /** Called once every byte is sent: the server is now working on it. */
  onSent?: () => void;
  signal?: AbortSignal;
}

export const ABORTED_CODE = 'aborted';

export function uploadFile<T>(method: string, url: string, file: Blob, name: string, opts: UploadOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new ApiError(0, ABORTED_CODE, 'The upload was cancelled.'));
      return;
    }
    const xhr = new XMLHttpRequest();
    const onAbortSignal = () => xhr.abort();
    const done = () => opts.signal?.removeEventListener('abort', onAbortSignal);
    xhr.open(method, url);
    // Same origin: the session cookie goes along (as with fetch's 'same-origin').
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) opts.onProgress?.({ loaded: e.loaded, total: e.total });
    };
    xhr.upload.onload = () => opts.onSent?.();
    xhr.onload = () => {
      done();
      const body = typeof xhr.responseText === 'string' ? xhr.responseText : '';
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve((body ? JSON.parse(body) : undefined) as T);
        } catch {
          reject(new ApiError(xhr.status, 'bad_answer', 'The server sent an answer that could not be read.'));
        }
        return;
      }
      if (xhr.status === 401) notifyUnauthorized();
      reject(apiErrorFrom(xhr.status, xhr.statusText, body, xhr.getResponseHeader('Retry-After')));
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError(0, 'network_error', NETWORK_ERROR_MESSAGE));
    };
    xhr.onabort = () => {
      done();
      reject(new ApiError(0, ABORTED_CODE, 'The upload was cancelled.'));
    };
    opts.signal?.addEventListener('abort', onAbortSignal);
    const form = new FormData();
    form.append('file', file, name);
    xhr.send(form);
  });
}

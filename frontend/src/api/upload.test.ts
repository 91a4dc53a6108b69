import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, setUnauthorizedHandler } from './client';
import { uploadFile } from './upload';

/** Just enough XMLHttpRequest to see what is sent and to answer it. */
class FakeXhr {
  static last: FakeXhr;
  method = '';
  url = '';
  withCredentials = false;
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  statusText = '';
  responseText = '';
  responseHeaders: Record<string, string> = {};
  aborted = false;
  upload: { onprogress: ((e: Partial<ProgressEvent>) => void) | null; onload: (() => void) | null } = { onprogress: null, onload: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getResponseHeader(name: string) {
    return this.responseHeaders[name] ?? null;
  }
  send(body: FormData) {
    this.body = body;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  answer(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body);
    this.responseHeaders = headers;
    this.onload?.();
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  setUnauthorizedHandler(null);
});

describe('uploadFile', () => {
  it('sends the file as the multipart part "file" and reports progress', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const progress: Array<[number, number]> = [];
    const onSent = vi.fn();
    const file = new File(['{"a": 1}'], 'ignored.json');
    const done = api.importListens(file, 'Streaming_History_Audio_2023.json', 'spotify_extended', {
      onProgress: (p) => progress.push([p.loaded, p.total]),
      onSent,
    });
    const xhr = FakeXhr.last;
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe('/api/me/listens?format=spotify_extended');
    expect(xhr.headers.Accept).toBe('application/json');
    const part = xhr.body?.get('file') as File;
    expect(part.name).toBe('Streaming_History_Audio_2023.json');
    expect(part.size).toBe(file.size);
    xhr.upload.onprogress?.({ lengthComputable: true, loaded: 100, total: 400 });
    xhr.upload.onprogress?.({ lengthComputable: false, loaded: 200, total: 0 });
    xhr.upload.onprogress?.({ lengthComputable: true, loaded: 400, total: 400 });
    xhr.upload.onload?.();
    expect(progress).toEqual([[100, 400], [400, 400]]);
    expect(onSent).toHaveBeenCalledTimes(1);
    xhr.answer(201, { report: { stored: 3 } });
    await expect(done).resolves.toEqual({ report: { stored: 3 } });
  });

  it('no format: detected by the server (no query)', () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    void api.importListens(new File(['x'], 'a.csv'), 'a.csv', null);
    expect(FakeXhr.last.url).toBe('/api/me/listens');
  });

  it("a refusal is an ApiError with the server's code and message", async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const done = uploadFile('POST', '/api/me/listens', new File(['x'], 'a.json'), 'a.json');
    FakeXhr.last.answer(422, { error: { code: 'unreadable_history', message: 'not a known export' } });
    await expect(done).rejects.toMatchObject({ status: 422, code: 'unreadable_history', message: 'not a known export' });
  });

  it('a proxy page that is not JSON still gives the status', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const done = uploadFile('POST', '/api/me/listens', new File(['x'], 'a.json'), 'a.json');
    FakeXhr.last.statusText = 'Request Entity Too Large';
    FakeXhr.last.answer(413, '<html>413</html>');
    const err = (await done.catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(413);
    expect(err.code).toBe('http_413');
  });

  it('a 401 tells the unauthorized listener', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const lost = vi.fn();
    setUnauthorizedHandler(lost);
    const done = uploadFile('POST', '/api/me/listens', new File(['x'], 'a.json'), 'a.json');
    FakeXhr.last.answer(401, { error: { code: 'unauthorized', message: 'log in' } });
    await expect(done).rejects.toMatchObject({ status: 401 });
    expect(lost).toHaveBeenCalledTimes(1);
  });

  it('a broken connection is network_error; an abort is aborted', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const broken = uploadFile('POST', '/u', new File(['x'], 'a.json'), 'a.json');
    FakeXhr.last.onerror?.();
    await expect(broken).rejects.toMatchObject({ status: 0, code: 'network_error' });
    const abort = new AbortController();
    const cancelled = uploadFile('POST', '/u', new File(['x'], 'a.json'), 'a.json', { signal: abort.signal });
    abort.abort();
    expect(FakeXhr.last.aborted).toBe(true);
    await expect(cancelled).rejects.toMatchObject({ code: 'aborted' });
  });
});

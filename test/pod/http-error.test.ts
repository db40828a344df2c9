import { describe, expect, it } from 'vitest';
import { FedinvoiceError, messageOf } from '../../src/model/errors.ts';
import { HttpError, isDenied, isNotFound, isRefused, isRetryable, isRetryableStatus, isUnservable, statusOf } from '../../src/pod/http-error.ts';

// What callers ask of an error instead of comparing status codes.
const at = (status: number) => new HttpError(status, 'https://pod.example/x', `HTTP ${status}`);

describe('HttpError predicates', () => {
  it('retryable: no answer, 429 and 5xx; nothing else', () => {
    expect([0, 429, 500, 503].map((s) => isRetryable(at(s)))).toEqual([true, true, true, true]);
    expect([200, 401, 403, 404, 412, 413].map((s) => isRetryable(at(s)))).toEqual([false, false, false, false, false, false]);
    expect(at(503).retryable).toBe(isRetryableStatus(503));
  });

  it('denied is 401 or 403, not found is 404, refused is any 4xx', () => {
    expect([401, 403, 404, 0].map((s) => isDenied(at(s)))).toEqual([true, true, false, false]);
    expect([404, 410, 0].map((s) => isNotFound(at(s)))).toEqual([true, false, false]);
    expect([400, 404, 499, 500, 0, 302].map((s) => isRefused(at(s)))).toEqual([true, true, true, false, false, false]);
  });

  it('unservable is 406 or 501 (the server will never give the resource as asked), nothing else', () => {
    expect([406, 501].map((s) => isUnservable(at(s)))).toEqual([true, true]);
    expect([0, 200, 404, 415, 429, 500, 502, 503].map((s) => isUnservable(at(s)))).toEqual([false, false, false, false, false, false, false, false]);
  });

  it('says no for anything that is not an HttpError', () => {
    for (const value of [new Error('x'), new FedinvoiceError('x'), 'x', null, { status: 404 }, { status: 501 }]) {
      const answers = [isRetryable(value), isDenied(value), isNotFound(value), isRefused(value), isUnservable(value), statusOf(value)];
      expect(answers).toEqual([false, false, false, false, false, 0]);
    }
    expect(statusOf(at(403))).toBe(403);
  });

  it('is a FedinvoiceError: an embedder catches one root', () => {
    expect(at(404)).toBeInstanceOf(FedinvoiceError);
    expect(at(404).name).toBe('HttpError');
  });
});

describe('messageOf', () => {
  it("gives an Error's message and anything else as text", () => {
    expect(messageOf(new TypeError('fetch failed'))).toBe('fetch failed');
    expect(messageOf('plain')).toBe('plain');
    expect(messageOf(42)).toBe('42');
    expect(messageOf(undefined)).toBe('undefined');
  });
});

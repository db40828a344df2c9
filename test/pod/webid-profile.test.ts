import { describe, expect, it } from 'vitest';
import { parseWebIdProfile, podOf } from '../../src/pod/webid-profile.ts';

// The pod is what the WebID profile states, never derived from the WebID's URL.
const doc = 'https://id.example/people/ana';
const webId = `${doc}#me`;
const card = (triples: string) => `@prefix pim: <http://www.w3.org/ns/pim/space#>.\n@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n${triples}`;

describe('reading a WebID profile', () => {
  it('takes pim:storage and solid:storage, on any host, relative IRIs resolved and a missing slash added', () => {
    expect(parseWebIdProfile(card('<#me> pim:storage <https://pods.example/ana/>.'), doc, webId).storages).toEqual(['https://pods.example/ana/']);
    expect(parseWebIdProfile(card('<#me> solid:storage <../../data>.'), doc, webId).storages).toEqual(['https://id.example/data/']);
    expect(parseWebIdProfile(card('<#me> pim:storage <https://s.example/a/>; solid:storage <https://s.example/a/>.'), doc, webId).storages).toEqual(['https://s.example/a/']);
  });

  it('reads only what the profile says about this WebID, and its trusted issuers', () => {
    const profile = parseWebIdProfile(card('<#me> solid:oidcIssuer <https://idp.example/>. <#other> pim:storage <https://x.example/>.'), doc, webId);
    expect(profile).toEqual({ webId, storages: [], issuers: ['https://idp.example/'] });
    expect(() => podOf(profile)).toThrow(`The WebID profile of ${webId} names no pod (no pim:storage or solid:storage)`);
  });

  it('asks for a choice when several pods are named, and refuses a profile that is not Turtle', () => {
    const several = parseWebIdProfile(card('<#me> pim:storage <https://b.example/>, <https://a.example/>.'), doc, webId);
    expect(several.storages).toEqual(['https://a.example/', 'https://b.example/']);
    expect(() => podOf(several)).toThrow('names several pods (https://a.example/, https://b.example/); choose one with --pod <url>');
    expect(podOf(parseWebIdProfile(card('<#me> pim:storage <https://a.example/>.'), doc, webId))).toBe('https://a.example/');
    expect(() => parseWebIdProfile('<#me> pim:storage', doc, webId)).toThrow(`The WebID profile ${doc} is not valid Turtle`);
  });
});

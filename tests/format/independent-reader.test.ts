/**
 * A second implementation of the v1 reader, written from docs/FORMAT.md alone: it imports
 * nothing from src/ and uses the WebAssembly build of libsodium (libsodium-wrappers-sumo)
 * instead of the native one the product uses. It reads the fixture repository down to
 * every file's bytes. If the spec and the code ever disagree, this test says so.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, it } from 'vitest';
import { decompress } from 'zstd-napi';
import { ROOT } from '../helpers/cli.js';

const FIXTURE = path.join(ROOT, 'tests/fixtures/repo-v1');
const REPO = path.join(FIXTURE, 'repo');
const NONCE = 24;

const ascii = (s: string) => Buffer.from(s, 'latin1');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const listIds = (dir: string): string[] => {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (/^[0-9a-f]{64}$/.test(e.name)) out.push(e.name);
    }
  };
  walk(path.join(REPO, dir));
  return out;
};

function aeadOpen(key: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Buffer {
  const nonce = sealed.subarray(0, NONCE);
  return Buffer.from(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed.subarray(NONCE), ad, nonce, key));
}

/** §5: version ‖ keyKind ‖ nonce ‖ ciphertext ‖ tag; AD = "coffre/v1/" type 0x00 header. */
function openEnvelope(type: string, bytes: Buffer, dataKey: Uint8Array): Buffer {
  expect(bytes[0]).toBe(1);
  expect(bytes[1]).toBe(0);
  const header = bytes.subarray(0, 2);
  return unwrap(aeadOpen(dataKey, bytes.subarray(2), Buffer.concat([ascii(`coffre/v1/${type}\0`), header])));
}

/** §5: compression byte 0 (none) or 1 (one zstd frame). */
function unwrap(plain: Buffer): Buffer {
  if (plain[0] === 0) return plain.subarray(1);
  expect(plain[0]).toBe(1);
  return decompress(plain.subarray(1));
}

interface Entry {
  type: number;
  id: string;
  pack: string;
  offset: number;
  length: number;
  rawLength: number;
}

describe('an independent reader of format v1 (docs/FORMAT.md)', () => {
  let dataKey: Uint8Array;
  let idKey: Uint8Array;
  const index = new Map<string, Entry>();

  beforeAll(async () => {
    await sodium.ready;
    // §4: try key files with the passphrase (the file's bytes without the trailing newline).
    const passphrase = fs.readFileSync(path.join(FIXTURE, 'passphrase.txt')).toString('utf8').replace(/\r?\n$/, '');
    for (const id of listIds('keys')) {
      const bytes = fs.readFileSync(path.join(REPO, 'keys', id));
      expect(sha256(bytes)).toBe(id);
      const kf = JSON.parse(bytes.toString('utf8'));
      const kek = sodium.crypto_pwhash(32, Buffer.from(passphrase), Buffer.from(kf.kdf.salt, 'base64'), kf.kdf.opsLimit, kf.kdf.memLimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
      try {
        const plain = aeadOpen(kek, Buffer.from(kf.keys, 'base64'), ascii(`coffre/v1/keyfile\0${kf.repositoryId}`));
        const keys = JSON.parse(plain.toString('utf8'));
        dataKey = Buffer.from(keys.dataKey, 'base64');
        idKey = Buffer.from(keys.idKey, 'base64');
        const config = JSON.parse(openEnvelope('config', fs.readFileSync(path.join(REPO, 'config')), dataKey).toString('utf8'));
        expect(config.id).toBe(kf.repositoryId);
        break;
      } catch (e) {
        if (!(e instanceof Error) || !/ciphertext cannot be decrypted|incorrect/i.test(e.message)) throw e;
      }
    }
    expect(dataKey).toBeDefined();
    // §8: index objects.
    for (const id of listIds('index')) {
      const bytes = fs.readFileSync(path.join(REPO, 'index', id));
      expect(sha256(bytes)).toBe(id);
      const p = openEnvelope('index', bytes, dataKey);
      let at = 0;
      expect(p[at++]).toBe(1);
      at += 4 + p.readUInt32LE(at) * 32;
      const packs = p.readUInt32LE(at);
      at += 4;
      for (let i = 0; i < packs; i++) {
        const pack = p.subarray(at, at + 32).toString('hex');
        const n = p.readUInt32LE(at + 36);
        at += 40;
        for (let j = 0; j < n; j++, at += 45) {
          const id = p.subarray(at + 1, at + 33).toString('hex');
          index.set(id, { type: p[at]!, id, pack, offset: p.readUInt32LE(at + 33), length: p.readUInt32LE(at + 37), rawLength: p.readUInt32LE(at + 41) });
        }
      }
      expect(at).toBe(p.length);
    }
  });

  /** §6 and §7: a ranged read of the pack, open with AD binding type and id, check the keyed id. */
  function readBlob(id: string, type: number): Buffer {
    const e = index.get(id)!;
    expect(e.type).toBe(type);
    const packBytes = fs.readFileSync(path.join(REPO, 'data', e.pack.slice(0, 2), e.pack));
    const sealed = packBytes.subarray(e.offset, e.offset + e.length);
    const raw = unwrap(aeadOpen(dataKey, sealed, Buffer.concat([ascii('coffre/v1/blob\0'), Buffer.from([type]), Buffer.from(id, 'hex')])));
    expect(raw.length).toBe(e.rawLength);
    expect(createHmac('sha256', idKey).update(raw).digest('hex')).toBe(id);
    return raw;
  }

  it('reads every pack header and finds the index in agreement', () => {
    for (const pack of new Set([...index.values()].map((e) => e.pack))) {
      const bytes = fs.readFileSync(path.join(REPO, 'data', pack.slice(0, 2), pack));
      expect(sha256(bytes)).toBe(pack);
      const headerLen = bytes.readUInt32LE(bytes.length - 4);
      const h = openEnvelope('pack-header', bytes.subarray(bytes.length - 4 - headerLen, bytes.length - 4), dataKey);
      expect(h[0]).toBe(1);
      expect(h.length % 4096).toBe(0);
      for (let i = 0, at = 5; i < h.readUInt32LE(1); i++, at += 45) {
        const e = index.get(h.subarray(at + 1, at + 33).toString('hex'))!;
        expect([e.pack, e.offset, e.length]).toEqual([pack, h.readUInt32LE(at + 33), h.readUInt32LE(at + 37)]);
      }
    }
  });

  it('walks each snapshot and reproduces every file of the manifest', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'manifest.json'), 'utf8'));
    for (const id of listIds('snapshots')) {
      const bytes = fs.readFileSync(path.join(REPO, 'snapshots', id));
      expect(sha256(bytes)).toBe(id);
      const snap = JSON.parse(openEnvelope('snapshot', bytes, dataKey).toString('utf8'));
      const expected = manifest.snapshots[id.slice(0, 8)];
      const found: Record<string, { type: string; sha256?: string; target?: string; mode?: number }> = {};
      const walk = (treeId: string, dir: string) => {
        for (const n of JSON.parse(readBlob(treeId, 1).toString('utf8')).nodes) {
          const p = dir ? `${dir}/${n.name}` : n.name;
          if (n.type === 'dir') {
            found[p] = { type: 'dir', mode: n.mode };
            walk(n.subtree, p);
          } else if (n.type === 'symlink') found[p] = { type: 'symlink', target: n.target };
          else found[p] = { type: 'file', mode: n.mode, sha256: sha256(Buffer.concat(n.content.map((c: string) => readBlob(c, 0)))) };
        }
      };
      walk(snap.tree, '');
      const prefix = manifest.sourcePath.slice(1);
      for (const [rel, want] of Object.entries(expected) as [string, { type: string; sha256?: string; target?: string; mode?: number }][]) {
        const got = found[`${prefix}/${rel}`];
        expect(got?.type, rel).toBe(want.type);
        if (want.type === 'file') expect([got?.sha256, got?.mode], rel).toEqual([want.sha256, want.mode]);
        if (want.type === 'symlink') expect(got?.target, rel).toBe(want.target);
      }
    }
  });

  it('re-chunks a multi-chunk file into exactly its stored content ids, as §12 says', () => {
    const config = JSON.parse(openEnvelope('config', fs.readFileSync(path.join(REPO, 'config')), dataKey).toString('utf8'));
    const { minSize, avgSize, maxSize, seed } = config.chunker;
    const g = Buffer.from(hkdfSync('sha256', Buffer.from(seed, 'hex'), Buffer.alloc(0), 'coffre/v1/fastcdc-gear32', 1024));
    const gear = Array.from({ length: 256 }, (_, i) => g.readInt32LE(i * 4));
    const b = Math.log2(avgSize);
    const top = (n: number) => (0xffffffff << (32 - n)) | 0;
    const [maskS, maskL] = [top(b + 2), top(b - 2)];
    const cut = (data: Buffer, start: number): number => {
      // Bytes before minSize are not hashed; h starts at 0 after them.
      let h = 0;
      let i = start + minSize;
      if (i >= data.length) return data.length;
      const end = Math.min(data.length, start + maxSize);
      for (; i < end; i++) {
        h = ((h << 1) + gear[data[i]!]!) | 0;
        if ((h & (i - start < avgSize ? maskS : maskL)) === 0) return i + 1;
      }
      return end;
    };
    const snapId = listIds('snapshots')[0]!;
    const snap = JSON.parse(openEnvelope('snapshot', fs.readFileSync(path.join(REPO, 'snapshots', snapId)), dataKey).toString('utf8'));
    const findFile = (treeId: string): { content: string[] } | undefined => {
      for (const n of JSON.parse(readBlob(treeId, 1).toString('utf8')).nodes) {
        if (n.type === 'file' && n.content.length > 1) return n;
        if (n.type === 'dir') {
          const f = findFile(n.subtree);
          if (f) return f;
        }
      }
      return undefined;
    };
    const file = findFile(snap.tree)!;
    expect(file.content.length).toBeGreaterThan(1);
    const data = Buffer.concat(file.content.map((c) => readBlob(c, 0)));
    const ids: string[] = [];
    for (let at = 0; at < data.length; ) {
      const next = cut(data, at);
      ids.push(createHmac('sha256', idKey).update(data.subarray(at, next)).digest('hex'));
      at = next;
    }
    expect(ids).toEqual(file.content);
  });
});

/**
 * Repacking: the blobs snapshots still use in mostly-unused packs are copied into new packs,
 * so that the old packs can be deleted whole. Sealed blobs are copied as they are: their
 * encryption binds the blob id and type, not the pack, so nothing is decrypted or re-sealed
 * (except the blobs of a write-only session's pack, sealed again with the data key: a
 * pack's blobs use its header's key, FORMAT §10).
 * Each old pack is read whole and checked against its name first, so a damaged pack is
 * never copied onward. New packs are written, then their index objects (commit order as
 * for a backup); nothing is deleted here.
 * @module
 */
import type { PackId } from '../domain/ids.js';
import type { BlobType } from '../repository/blob-codec.js';
import type { IndexedPack } from '../repository/index-file.js';
import { packKey } from '../repository/layout.js';
import { PackBuilder, packIsFull } from '../repository/pack.js';
import { checkName, type Repository } from '../repository/repository.js';
import type { PruneWorkspace } from './workspace.js';

/** Packs per index object written by prune (backups write one every 16 packs). */
export const PACKS_PER_INDEX = 16;

export async function repack(repo: Repository, ws: PruneWorkspace, packs: readonly PackId[]): Promise<void> {
  const builders: Record<BlobType, PackBuilder> = { data: new PackBuilder(), tree: new PackBuilder() };
  const written: IndexedPack[] = [];
  const copied = new Set<string>(); // the blobs repacked in this run only: bounded by what is copied
  const flush = async (type: BlobType) => {
    const b = builders[type];
    if (b.count === 0) return;
    builders[type] = new PackBuilder();
    const { id, bytes: packBytes, entries } = repo.finishPack(b);
    await repo.savePack(id, packBytes);
    written.push({ packId: id, size: packBytes.length, blobs: entries });
    if (written.length % PACKS_PER_INDEX === 0) await writeIndex(written.slice(-PACKS_PER_INDEX));
  };
  const writeIndex = async (group: IndexedPack[]) => {
    if (group.length === 0) return;
    const id = await repo.saveIndex({ supersedes: [], packs: group });
    for (const p of group) ws.addStored(p.packId, p.size);
    ws.addIndex(id, { supersedes: [], packs: group });
  };
  for (const old of packs) {
    const used = ws.usedEntriesOf(old).filter((e) => !copied.has(e.id));
    if (used.length === 0) continue;
    const key = packKey(old);
    const whole = await repo.storage.get(key);
    checkName(key, old, whole);
    for (const e of used) {
      copied.add(e.id);
      builders[e.type].add(e.type, e.id, await repo.blobForRepack(old, e, whole.subarray(e.offset, e.offset + e.length)), e.rawLength);
      if (packIsFull(builders[e.type].size, builders[e.type].count, repo.config.packSize, repo.packSealing())) await flush(e.type);
    }
  }
  await flush('data');
  await flush('tree');
  const rest = written.length % PACKS_PER_INDEX;
  if (rest) await writeIndex(written.slice(-rest));
}

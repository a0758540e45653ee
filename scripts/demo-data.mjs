// Writes a small, deterministic sample tree of fake patient-identity CSV files (names,
// birth dates, social-security-like numbers, addresses), a binary scan and a symlink.
// Usage: node scripts/demo-data.mjs DIR
import { mkdirSync, writeFileSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
if (!root) throw new Error('usage: node scripts/demo-data.mjs DIR');
const names = ['MARTIN', 'BERNARD', 'DUBOIS', 'THOMAS', 'ROBERT', 'PETIT', 'DURAND', 'LEROY', 'MOREAU', 'LEFEBVRE'];
const first = ['Jean', 'Marie', 'Émilie', 'Louis', 'Chloé', 'Hugo', 'Léa', 'Nathan', 'Inès', 'Paul'];
let x = 42;
const rnd = (n) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
for (const service of ['service-a', 'service-b', 'urgences']) {
  mkdirSync(join(root, service), { recursive: true });
  for (let f = 1; f <= 40; f++) {
    let rows = 'id,nom,prenom,naissance,nir,adresse\n';
    for (let i = 0, n = 50 + rnd(400); i < n; i++) {
      rows += `${f * 1000 + i},${names[rnd(10)]},${first[rnd(10)]},19${10 + rnd(90)}-0${1 + rnd(9)}-1${rnd(10)},${1 + rnd(2)}${String(rnd(1e9)).padStart(9, '0')}${rnd(100000)},${rnd(200)} rue de Lille,59000 Lille\n`;
    }
    writeFileSync(join(root, service, `patients-${String(f).padStart(4, '0')}.csv`), rows);
  }
}
const scan = Buffer.alloc(3 * 1024 * 1024);
for (let i = 0; i < scan.length; i += 4) scan.writeUInt32LE((x = (Math.imul(x, 1664525) + 1013904223) >>> 0), i);
mkdirSync(join(root, 'imagerie'), { recursive: true });
writeFileSync(join(root, 'imagerie', 'scan-0001.bin'), scan);
mkdirSync(join(root, 'vide'), { recursive: true });
if (!existsSync(join(root, 'dernier'))) symlinkSync('service-a/patients-0001.csv', join(root, 'dernier'));

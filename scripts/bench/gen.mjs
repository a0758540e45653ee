// Deterministic synthetic data generators for scripts/bench.sh (adapted from the team notes, notes/bench/gen.mjs).
// text = CSV-like patient-identity rows (seeded mulberry32), random = AES-256-CTR keystream keyed by a seed string.
// Same seeds and algorithms as perf-baseline.md, so BENCH_SCALE=full is byte-identical to the dataset measured there.
import crypto from 'node:crypto';

export function prng(seed) {
  // mulberry32
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = 'James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Ethan Joan Walter Evelyn Noah Judith Jeremy Megan Christian Andrea Keith Cheryl Roger Hannah Terry Jacqueline Gerald Martha Harold Gloria Sean Teresa Austin Ann Carl Sara Arthur Madison Lawrence Frances Dylan Kathryn Jesse Janice Jordan Jean Bryan Abigail Billy Alice Joe Julia Bruce Judy Gabriel Sophia Logan Grace Albert Denise Willie Amber Alan Doris Juan Marilyn Wayne Danielle Elijah Beverly Randy Isabella Roy Theresa Vincent Diana Ralph Natalie Eugene Brittany Russell Charlotte Bobby Marie Mason Kayla Philip Alexis Louis Lori Mohammed Aisha Priya Rahul Fatima Omar Chen Wei Yuki Hiroshi Olga Ivan Siobhan Niamh Aoife Ciaran Eilidh Rhys Cerys Dafydd'.split(' ');
const LAST = 'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval Okafor Khan Ahmed Singh Kaur Ali Hussain Begum Nowak Kowalski'.split(' ');
const STREET = 'High Station Main Park Church London Victoria Green Manor Kings Queens New Grange Mill School North South West East Albert Windsor Springfield Highfield Chester Oxford Cambridge York Richmond Elm Oak Ash Beech Cedar Willow Meadow Orchard Castle Bridge Market'.split(' ');
const STYPE = 'Street Road Lane Avenue Close Drive Way Crescent Gardens Place Grove Terrace Court'.split(' ');
const CITY = 'London Birmingham Manchester Leeds Glasgow Sheffield Bradford Liverpool Edinburgh Bristol Cardiff Leicester Coventry Belfast Nottingham Newcastle Brighton Hull Plymouth Stoke Wolverhampton Derby Swansea Southampton Salford Aberdeen Westminster Portsmouth York Peterborough Dundee Lancaster Oxford Newport Preston Cambridge Norwich Chester Exeter Bath'.split(' ');
const DOM = 'nhs.net example.com mail.co.uk gmail.com outlook.com yahoo.co.uk btinternet.com'.split(' ');
const L = 'ABCDEFGHJKLMNPRSTUWXYZ';
export const HEADER = 'patient_id,nhs_number,given_name,family_name,date_of_birth,sex,address_line1,city,postcode,phone,email,gp_practice,registered_on,allergy_flag\n';

export function textRows(seed, targetBytes) {
  const r = prng(seed);
  const ri = (n) => (r() * n) | 0;
  const d = (n) => String(ri(10 ** n)).padStart(n, '0');
  const parts = [HEADER];
  let len = HEADER.length;
  while (len < targetBytes) {
    const fn = FIRST[ri(FIRST.length)], ln = LAST[ri(LAST.length)];
    const y = 1925 + ri(99), m = 1 + ri(12), dd = 1 + ri(28);
    const row = `P${d(8)},${d(3)} ${d(3)} ${d(4)},${fn},${ln},${y}-${String(m).padStart(2, '0')}-${String(dd).padStart(2, '0')},${r() < 0.5 ? 'F' : 'M'},${1 + ri(250)} ${STREET[ri(STREET.length)]} ${STYPE[ri(STYPE.length)]},${CITY[ri(CITY.length)]},${L[ri(22)]}${L[ri(22)]}${1 + ri(29)} ${ri(10)}${L[ri(22)]}${L[ri(22)]},07${d(3)} ${d(6)},${fn.toLowerCase()}.${ln.toLowerCase()}${ri(100)}@${DOM[ri(DOM.length)]},${L[ri(22)]}${d(5)},20${String(ri(24)).padStart(2, '0')}-${String(1 + ri(12)).padStart(2, '0')}-${String(1 + ri(28)).padStart(2, '0')},${r() < 0.1 ? 'Y' : 'N'}\n`;
    parts.push(row);
    len += row.length;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, targetBytes);
}

export function randomBytes(seed, n) {
  const key = crypto.createHash('sha256').update('seed:' + seed).digest();
  const iv = Buffer.alloc(16);
  const c = crypto.createCipheriv('aes-256-ctr', key, iv);
  const out = Buffer.allocUnsafe(n);
  const Z = Buffer.alloc(1 << 20);
  let off = 0;
  while (off < n) {
    const k = Math.min(Z.length, n - off);
    c.update(Z.subarray(0, k)).copy(out, off);
    off += k;
  }
  return out;
}

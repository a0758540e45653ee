/** The program's version, as `coffre --version` prints it and snapshots record it (package.json's). */
export const VERSION = '0.1.0';

/**
 * sodium-native, loaded with require(): it is a CommonJS package, and importing it as ES
 * module costs 70-130 ms here (the ESM loader parses its sources for named exports and
 * resolves its helper packages one by one) against about 40 ms for require(). Every
 * command pays this before its key derivation can start.
 * @module
 */
import { createRequire } from 'node:module';
import type * as Sodium from 'sodium-native';

export const sodium = createRequire(import.meta.url)('sodium-native') as typeof Sodium;

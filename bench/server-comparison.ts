import type { Comparison } from './comparison.js';
export async function serverComparisons(): Promise<Comparison[]> { return []; }

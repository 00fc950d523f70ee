// Shared output for benchmarks: one aligned row per measurement, ratios against the peer.

export interface Row {
  name: string;
  value: number;
  unit: string;
  /** The peer's figure for the same workload, when there is one. */
  peer?: number;
  /** Whether a bigger value is better (throughput) or worse (latency); decides the ratio's sense. */
  higherIsBetter?: boolean;
}

export function printRows(title: string, rows: readonly Row[]): void {
  console.log(`\n${title}`);
  for (const r of rows) {
    const value = r.value >= 100 ? r.value.toFixed(0) : r.value.toFixed(2);
    let ratio = '';
    if (r.peer !== undefined && r.peer > 0) {
      const x = r.higherIsBetter === false ? r.peer / r.value : r.value / r.peer;
      ratio = `  ratio vs peer ${x.toFixed(2)}x (peer ${r.peer >= 100 ? r.peer.toFixed(0) : r.peer.toFixed(2)} ${r.unit})`;
    }
    console.log(`  ${r.name.padEnd(48)} ${value.padStart(12)} ${r.unit}${ratio}`);
  }
}

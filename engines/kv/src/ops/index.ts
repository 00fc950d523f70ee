export type { GaugeSource } from './metrics.js';
export { KvMetrics } from './metrics.js';

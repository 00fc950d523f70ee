export type { GaugeRead } from './metrics.js';
export { RelationalMetrics } from './metrics.js';

export type { GaugeRead, LabeledGaugeRead } from './metrics.js';
export { RelationalMetrics } from './metrics.js';

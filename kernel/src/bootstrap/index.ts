export type { KernelServices, StartKernelOptions } from './start-kernel.js';
export { startKernel } from './start-kernel.js';
export { PolicyHolder } from './policy-holder.js';

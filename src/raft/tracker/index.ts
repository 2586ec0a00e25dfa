/** The leader's replication bookkeeping: per-peer Progress, inflights windows, the active config. */
export { ProgressState, progressStateName } from './progress-state.js';
export { Inflights } from './inflights.js';
export { Progress, type ProgressInit, describeProgressMap } from './progress.js';
export { type TrackerConfig, emptyTrackerConfig, cloneTrackerConfig, describeTrackerConfig } from './tracker-config.js';
export { ProgressTracker } from './progress-tracker.js';

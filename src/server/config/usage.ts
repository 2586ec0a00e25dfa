/** The `--help` text: how to run etcd-ts and every flag with its default, grouped as etcd groups them. */

import { FLAG_SPECS } from './flags.js';
import { PROGRAM_NAME } from './version.js';

/** The short usage block printed before `--help`'s flag list. */
export function usageText(): string {
  return [
    'Usage:',
    '',
    `  ${PROGRAM_NAME} [flags]`,
    '    Start an etcd-compatible server.',
    '',
    `  ${PROGRAM_NAME} --version`,
    '    Print the version and exit.',
    '',
    `  ${PROGRAM_NAME} -h | --help`,
    '    Print this help and exit.',
    '',
    `  ${PROGRAM_NAME} --config-file <path>`,
    '    Read the configuration from a YAML file whose keys are the flag names.',
    '    Other flags and ETCD_* environment variables are then ignored.',
    '',
    'Every flag can also be set by an environment variable: --initial-cluster-token is',
    'ETCD_INITIAL_CLUSTER_TOKEN. Setting both for the same flag is an error.',
    '',
  ].join('\n');
}

/** The flag list of `--help`: each flag, its default in quotes, and one line about it. */
export function flagsText(): string {
  const lines: string[] = [];
  let group = '';
  for (const spec of FLAG_SPECS) {
    if (spec.group === 'hidden') continue;
    if (spec.group !== group) {
      group = spec.group;
      lines.push('', `${group}:`);
    }
    lines.push(`  --${spec.name} '${spec.helpDefault ?? spec.defaultText}'`, `    ${spec.help}`);
  }
  lines.push('');
  return lines.join('\n');
}

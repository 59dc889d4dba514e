import type { DecisionCount, IamEvaluator } from './evaluator.ts';

/**
 * The evaluator's record as text, role by role: the calls allowed and denied (with counts, the
 * platform's calls marked), then the grants no allowed call used — candidates for removal.
 *
 * @example
 * process.stdout.write(formatIamReport(evaluator));
 */
export function formatIamReport(evaluator: IamEvaluator): string {
  const decisions = evaluator.decisions();
  const unused = evaluator.unusedGrants();
  const lines: string[] = ['Local IAM report'];
  for (const role of evaluator.roles) {
    const decided = decisions.find((d) => d.roleArn === role.arn);
    const grants = unused.find((u) => u.roleArn === role.arn)?.grants ?? [];
    lines.push('', `${role.name} (${role.stack}/${role.logicalId})`);
    lines.push(...section('allowed', decided?.allowed ?? [], (c) => callLine(c)));
    lines.push(...section('denied', decided?.denied ?? [], (c) => `${callLine(c)} ${c.reason}`));
    lines.push(
      ...section('unused grants', grants, (g) => `${g.action} on ${g.resource} (${g.policy} ${g.statement})`),
    );
  }
  return `${lines.join('\n')}\n`;
}

function section<T>(title: string, entries: readonly T[], line: (entry: T) => string): string[] {
  if (entries.length === 0) return [`  ${title}: none`];
  return [`  ${title}:`, ...entries.map((entry) => `    ${line(entry)}`)];
}

function callLine(count: DecisionCount): string {
  const by = count.by === 'platform' ? ' [platform]' : '';
  return `${String(count.count).padStart(5)} × ${count.action} on ${count.resource}${by}`;
}

/**
 * A small CloudWatch metric-math evaluator for the operators our alarms use: numbers, ids,
 * `+ - * /`, comparisons, `AND`/`&&`, `OR`/`||`, parentheses and `IF(condition, a[, b])`.
 *
 * Semantics follow CloudWatch's "Metric math syntax and functions" and "Using IF expressions":
 * - a time series paired with a scalar keeps the series' timestamps;
 * - two time series: a timestamp present in only one of them counts as 0 in the other;
 * - a division by zero drops the datapoint;
 * - `IF(TS, a, b)` has a datapoint for each datapoint of the condition: `a` when it is non-zero
 *   (0 where `a` is a series without that timestamp), else `b` (dropped where `b` is a series
 *   without that timestamp, or is omitted).
 */

/** Minute → value. A minute that is absent has no datapoint. */
export type Series = ReadonlyMap<number, number>;
export type MathValue = number | Series;

type Node =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'id'; readonly name: string }
  | { readonly kind: 'binary'; readonly op: string; readonly left: Node; readonly right: Node }
  | { readonly kind: 'negate'; readonly operand: Node }
  | { readonly kind: 'if'; readonly condition: Node; readonly then: Node; readonly otherwise?: Node };

const TOKEN = /\s*(\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|==|!=|<=|>=|&&|\|\||[-+*/<>(),])/y;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.trimEnd().length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expression);
    if (!match?.[1]) throw new Error(`metric math: cannot read "${expression.slice(at)}"`);
    tokens.push(match[1]);
  }
  return tokens;
}

const LEVELS: readonly (readonly string[])[] = [
  ['OR', '||'],
  ['AND', '&&'],
  ['==', '!=', '<=', '>=', '<', '>'],
  ['+', '-'],
  ['*', '/'],
];

export function parseMetricMath(expression: string): Node {
  const tokens = tokenize(expression);
  let position = 0;
  const peek = () => tokens[position];
  const expect = (token: string) => {
    if (tokens[position] !== token) throw new Error(`metric math: expected "${token}" in "${expression}"`);
    position++;
  };
  const level = (index: number): Node => {
    if (index === LEVELS.length) return unary();
    let left = level(index + 1);
    while (LEVELS[index]?.includes(peek() ?? '')) {
      const op = tokens[position++] as string;
      const normalised = op === '&&' ? 'AND' : op === '||' ? 'OR' : op;
      left = { kind: 'binary', op: normalised, left, right: level(index + 1) };
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === '-') {
      position++;
      return { kind: 'negate', operand: unary() };
    }
    return primary();
  };
  const primary = (): Node => {
    const token = tokens[position++];
    if (token === undefined) throw new Error(`metric math: unexpected end of "${expression}"`);
    if (token === '(') {
      const inner = level(0);
      expect(')');
      return inner;
    }
    if (/^\d/.test(token)) return { kind: 'number', value: Number(token) };
    if (token === 'IF') {
      expect('(');
      const condition = level(0);
      expect(',');
      const then = level(0);
      let otherwise: Node | undefined;
      if (peek() === ',') {
        position++;
        otherwise = level(0);
      }
      expect(')');
      return otherwise ? { kind: 'if', condition, then, otherwise } : { kind: 'if', condition, then };
    }
    if (/^[A-Z]/.test(token)) throw new Error(`metric math: function ${token} is not supported here`);
    return { kind: 'id', name: token };
  };
  const node = level(0);
  if (position !== tokens.length) throw new Error(`metric math: trailing input in "${expression}"`);
  return node;
}

function apply(op: string, a: number, b: number): number | undefined {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : a / b;
    case '==':
      return Number(a === b);
    case '!=':
      return Number(a !== b);
    case '<=':
      return Number(a <= b);
    case '>=':
      return Number(a >= b);
    case '<':
      return Number(a < b);
    case '>':
      return Number(a > b);
    case 'AND':
      return Number(a !== 0 && b !== 0);
    case 'OR':
      return Number(a !== 0 || b !== 0);
    default:
      throw new Error(`metric math: operator ${op} is not supported here`);
  }
}

function binary(op: string, left: MathValue, right: MathValue): MathValue {
  if (typeof left === 'number' && typeof right === 'number') {
    const value = apply(op, left, right);
    if (value === undefined) throw new Error('metric math: scalar division by zero');
    return value;
  }
  const out = new Map<number, number>();
  const minutes =
    typeof left === 'number'
      ? [...(right as Series).keys()]
      : typeof right === 'number'
        ? [...left.keys()]
        : [...new Set([...left.keys(), ...right.keys()])];
  for (const minute of minutes) {
    const a = typeof left === 'number' ? left : (left.get(minute) ?? 0);
    const b = typeof right === 'number' ? right : (right.get(minute) ?? 0);
    const value = apply(op, a, b);
    if (value !== undefined) out.set(minute, value);
  }
  return out;
}

function conditional(condition: MathValue, then: MathValue, otherwise: MathValue | undefined): MathValue {
  if (typeof condition === 'number') {
    if (condition !== 0) return then;
    if (otherwise === undefined) return new Map();
    return otherwise;
  }
  const out = new Map<number, number>();
  for (const [minute, value] of condition) {
    if (value !== 0) {
      out.set(minute, typeof then === 'number' ? then : (then.get(minute) ?? 0));
    } else if (otherwise !== undefined) {
      const other = typeof otherwise === 'number' ? otherwise : otherwise.get(minute);
      if (other !== undefined) out.set(minute, other);
    }
  }
  return out;
}

/** Evaluates `expression`; `lookup` resolves an id (a metric's series or another expression's result). */
export function evaluateMetricMath(expression: string, lookup: (id: string) => MathValue): MathValue {
  const visit = (node: Node): MathValue => {
    switch (node.kind) {
      case 'number':
        return node.value;
      case 'id':
        return lookup(node.name);
      case 'negate':
        return binary('-', 0, visit(node.operand));
      case 'binary':
        return binary(node.op, visit(node.left), visit(node.right));
      case 'if':
        return conditional(
          visit(node.condition),
          visit(node.then),
          node.otherwise ? visit(node.otherwise) : undefined,
        );
    }
  };
  return visit(parseMetricMath(expression));
}

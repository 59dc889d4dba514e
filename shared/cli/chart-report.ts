/**
 * The `--report <file.svg|file.html>` of `pipeline advise` and `pipeline simulate`: Vega-Lite panels
 * rendered headless by vega (`renderer: 'none'` + `toSVG()`: no browser, no canvas), as the benchmark
 * charts are. `.svg`: every panel stacked in one image; `.html`: a page with each chart inline and
 * what the command puts around them.
 */

import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { OutputWriteError, UsageError } from './errors.ts';

/** One Vega-Lite view, without the top-level schema and config. */
export type Panel = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const CONFIG = { font: 'sans-serif', axis: { labelLimit: 260 }, view: { stroke: null } } as const;

export interface ChartReport {
  readonly title: string;
  readonly panels: readonly Panel[];
  /** The panels the page shows. @default panels */
  readonly pagePanels?: readonly Panel[];
  /** The HTML page around the rendered charts (each an `<svg>` element's text). */
  readonly page: (charts: readonly string[]) => string;
}

/**
 * Writes the report to `path`; its extension picks the format. Throws `UsageError` for any other
 * extension (before rendering anything) and `OutputWriteError` when the file cannot be written.
 */
export async function writeChartReport(path: string, report: ChartReport): Promise<void> {
  const format = extname(path).toLowerCase();
  if (format !== '.svg' && format !== '.html') {
    throw new UsageError(`--report ${path}: name a .svg or .html file`);
  }
  const text =
    format === '.svg'
      ? await renderSvg({ $schema: SCHEMA, title: report.title, config: CONFIG, vconcat: [...report.panels] })
      : report.page(
          await Promise.all(
            (report.pagePanels ?? report.panels).map((panel) =>
              renderSvg({ $schema: SCHEMA, config: CONFIG, ...panel }),
            ),
          ),
        );
  try {
    await writeFile(path, `${text}\n`);
  } catch (cause) {
    throw new OutputWriteError(path, (cause as Error).message, { cause });
  }
}

/** vega and vega-lite are loaded only when a report is asked for. */
async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec as unknown as TopLevelSpec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

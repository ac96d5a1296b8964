/**
 * `watch`: governs a live `opencode serve`, prints each decision and a
 * running cost line, and reads replies to held requests from stdin.
 */

import { createInterface } from 'node:readline'
import type { Reply } from './addon.ts'
import { httpUrl, parseCommand, stringOption, type OptionSpec } from './cli-args.ts'
import { createGovernor, registerPlanFile, saveSnapshot, type Output } from './commands.ts'
import { costLine, decisionLine } from './format.ts'
import { worktreePath } from './inputs.ts'
import type { Logger } from './log.ts'
import { Monitor } from './monitor.ts'
import { summarize } from './spend.ts'

const WATCH_OPTIONS: OptionSpec = {
  url: { type: 'string' },
  worktree: { type: 'string' },
  policy: { type: 'string' },
  plan: { type: 'string' },
  job: { type: 'string' },
  'resume-prompt': { type: 'string' },
  'save-snapshot': { type: 'string' },
}

/** Prompt sent to sessions a budget pause stopped, once `extend` lifts the pause. */
const DEFAULT_RESUME_PROMPT = 'continue'

export const STDIN_HELP = 'type "once ID", "always ID", "reject ID [message]" or "extend USD" and press Enter'

export async function watchCommand(args: string[], out: Output, logger: Logger): Promise<number> {
  const parsed = parseCommand('watch', args, WATCH_OPTIONS, 0)
  const url = httpUrl('url', stringOption('watch', parsed, 'url', true))
  const worktree = worktreePath(stringOption('watch', parsed, 'worktree', true), true)
  const jobId = stringOption('watch', parsed, 'job') ?? 'main'
  const governor = createGovernor(stringOption('watch', parsed, 'policy'))
  const planId = registerPlanFile(governor, stringOption('watch', parsed, 'plan'))

  const snapshotPath = stringOption('watch', parsed, 'save-snapshot')
  const resumePrompt = stringOption('watch', parsed, 'resume-prompt') ?? DEFAULT_RESUME_PROMPT
  const monitor = new Monitor({ governor, logger, resumePrompt })
  monitor.addJob({ jobId, url, worktree, ...(planId === undefined ? {} : { planId }) })
  let lastCost = ''
  monitor.on('decision', ({ jobId: job, outcome, reply }) => out(decisionLine(job, outcome, reply)))
  monitor.on('held', (held) => out(`held ${held.permissionId} (${held.permission}, ${held.cause}): ${held.reason}; ${STDIN_HELP}`))
  monitor.on('budget', ({ action }) => {
    const hint = action.kind === 'pause' ? '; type "extend USD" and press Enter to raise the cap and continue' : ''
    out(`budget ${action.kind}: ${action.message}${hint}`)
  })
  monitor.on('error', () => {
    // Already logged by the monitor; the listener keeps emit from throwing.
  })
  monitor.on('cost', () => {
    const line = costLine(summarize(governor.report()))
    if (line !== lastCost) out(line)
    lastCost = line
  })

  monitor.start()
  out(`watching ${url} as job "${jobId}" (worktree ${worktree}); Ctrl-C stops`)
  const input = createInterface({ input: process.stdin, terminal: false })
  input.on('line', (line) => {
    answerFromLine(monitor, jobId, line, out)
  })

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  input.close()
  await monitor.stop()
  out(lastCost === '' ? costLine(summarize(governor.report())) : lastCost)
  if (snapshotPath !== undefined) {
    saveSnapshot(governor, snapshotPath)
    out(`saved the cost and budget state to ${snapshotPath}`)
  }
  return 0
}

function answerFromLine(monitor: Monitor, jobId: string, line: string, out: Output): void {
  const [verb, id, ...rest] = line.trim().split(/\s+/)
  if (!verb) return
  if (verb === 'extend') {
    const amount = Number(id)
    if (!Number.isFinite(amount) || amount <= 0) return out(`invalid amount "${id ?? ''}"; ${STDIN_HELP}`)
    const actions = monitor.extendJob(jobId, { usd: amount })
    return out(`extended job "${jobId}" by $${amount}; ${actions.length} budget action(s)`)
  }
  if ((verb !== 'once' && verb !== 'always' && verb !== 'reject') || !id) return out(`unknown input "${line.trim()}"; ${STDIN_HELP}`)
  const message = rest.length > 0 ? rest.join(' ') : undefined
  monitor.answer(id, verb as Reply, message).then(
    () => out(`answered ${id}: ${verb}`),
    (error: unknown) => out(`failed to reply to ${id}: ${error instanceof Error ? error.message : String(error)}`),
  )
}

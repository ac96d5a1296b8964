// Resident memory of one Governor fed 1,000,000 events from 100 jobs:
// message.updated snapshots of many messages, tool-call parts and
// permission requests. Shows that memory stays bounded: decision logs are
// capped per job, tool calls per job, and a message's bookkeeping is
// released when its last snapshot arrives.
//
//   npx tsx --expose-gc bench/memory.ts [--events N] [--log-limit N]
//
// Prints RSS, the V8 heap and peak RSS every tenth of the run, after a
// full GC when --expose-gc is given, so the figures show retained memory.

import { addon, createWorkspace, messageEvent, permissionEvent, policy200Text, SHELL_COMMANDS } from './setup.ts'

const eventsFlag = process.argv.indexOf('--events')
const TOTAL = eventsFlag > 0 ? Number(process.argv[eventsFlag + 1]) : 1_000_000
const JOBS = 100
const logFlag = process.argv.indexOf('--log-limit')
const LOG_LIMIT = logFlag > 0 ? Number(process.argv[logFlag + 1]) : 1000
const REPORT_EVERY = TOTAL / 10
const gc = (globalThis as { gc?: () => void }).gc

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

function toolPart(sessionId: string, messageId: string, callId: string, command: string) {
  return {
    type: 'message.part.updated',
    properties: {
      part: {
        id: `prt_${callId}`,
        sessionID: sessionId,
        messageID: messageId,
        type: 'tool',
        callID: callId,
        tool: 'bash',
        state: { status: 'running', input: { command, description: 'run it' } },
      },
    },
  }
}

const workspace = createWorkspace()
try {
  gc?.()
  const rssBefore = process.memoryUsage().rss
  const governor = new addon.Governor({ logLimit: LOG_LIMIT })
  governor.registerPlan('memory-plan', policy200Text, 'bench/policy-200.json')
  for (let job = 0; job < JOBS; job++) {
    governor.registerJob({ jobId: `job-${job}`, planId: 'memory-plan', worktree: workspace.worktree, home: workspace.home })
  }
  gc?.()
  const rssJobs = process.memoryUsage().rss
  console.log(`rss before the governor ${mib(rssBefore)} MiB, after registering ${JOBS} jobs with the 200-rule policy ${mib(rssJobs)} MiB`)
  // The jobs have no layer of their own, so they share one compiled policy.
  console.log(`(${((rssJobs - rssBefore) / JOBS / 1024).toFixed(0)} KiB per job; the 100 jobs share one compiled policy)\n`)

  const commands = Object.values(SHELL_COMMANDS)
  const counts = { message: 0, tool: 0, permission: 0, errors: 0 }
  let peak = 0
  console.log(`events      rss MiB  heapUsed MiB  external MiB  peak rss MiB`)
  const sample = (done: number) => {
    gc?.()
    const usage = process.memoryUsage()
    peak = Math.max(peak, process.resourceUsage().maxRSS * 1024)
    console.log(
      `${String(done).padStart(9)}  ${mib(usage.rss).padStart(8)}  ${mib(usage.heapUsed).padStart(12)}  ${mib(usage.external).padStart(12)}  ${mib(peak).padStart(12)}`,
    )
  }
  sample(0)

  // Ten events per step of a job: six message snapshots (two messages of
  // three snapshots each, the last completed), two tool calls, two requests.
  for (let i = 0; i < TOTAL; i++) {
    const job = i % JOBS
    const step = Math.floor(i / JOBS)
    const slot = step % 10
    const round = Math.floor(step / 10)
    const jobId = `job-${job}`
    const sessionId = `ses_${job}_${Math.floor(round / 500)}`
    let event: object
    if (slot < 6) {
      const message = `msg_${job}_${round}_${slot < 3 ? 'a' : 'b'}`
      event = messageEvent(message, sessionId, 10 * ((slot % 3) + 1), slot % 3 === 2)
      counts.message++
    } else if (slot < 8) {
      event = toolPart(sessionId, `msg_${job}_${round}_a`, `call_${job}_${round}_${slot}`, commands[slot % commands.length])
      counts.tool++
    } else {
      const id = `per_${job}_${round}_${slot}`
      event =
        slot === 8
          ? permissionEvent(id, 'edit', ['src/app/main.ts'], { filepath: `${workspace.worktree}/src/app/f${round}.ts` })
          : permissionEvent(id, 'bash', [commands[round % commands.length]], { command: commands[round % commands.length] })
      ;(event as any).properties.sessionID = sessionId
      counts.permission++
    }
    try {
      governor.handleEvent(jobId, `data: ${JSON.stringify(event)}`)
    } catch {
      counts.errors++
    }
    if ((i + 1) % REPORT_EVERY === 0) sample(i + 1)
  }

  const log = governor.decisionLog('job-0')
  console.log(
    `\n${TOTAL} events: ${counts.message} message snapshots, ${counts.tool} tool calls, ${counts.permission} permission requests, ${counts.errors} errors`,
  )
  console.log(`job-0 decision log: ${log.entries.length} entries kept, ${log.dropped} dropped (limit ${LOG_LIMIT})`)
  console.log(`gc between samples: ${gc ? 'yes' : 'no (run with --expose-gc)'}`)
} finally {
  workspace.remove()
}

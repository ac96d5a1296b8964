import { spawn, spawnSync } from 'node:child_process'
import http from 'node:http'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(__dirname, '..')
const bin = join(root, 'monitor/bin/mc-governance.mjs')
const captures = join(root, 'fixtures/captures')
const scratch = mkdtempSync(join(tmpdir(), 'mcg-cli-test-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

function cli(...args: string[]): Run {
  const result = spawnSync(process.execPath, [bin, '--quiet', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function scratchFile(name: string, text: string): string {
  const path = join(scratch, name)
  writeFileSync(path, text)
  return path
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('usage errors', () => {
  it('prints usage for --help', () => {
    const run = cli('--help')
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('Usage:')
    expect(run.stdout).toContain('mc-governance replay FILE --worktree DIR')
  })

  it('rejects a missing command', () => {
    const run = cli()
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('mc-governance: no command given')
    expect(run.stderr).toContain('help: give one of: watch, replay, check, explain, report, demo')
  })

  it('rejects an unknown command', () => {
    const run = cli('frobnicate')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('unknown command "frobnicate"')
  })

  it('rejects an unknown option', () => {
    const run = cli('replay', 'x.sse', '--worktree', '.', '--colour')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('unknown option "--colour" for "replay"')
    expect(run.stderr).toContain('accepted options: --worktree')
  })

  it('rejects an option without its value', () => {
    const run = cli('watch', '--worktree', '.', '--url')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('option "--url" needs a value')
  })

  it('rejects a missing required option', () => {
    const run = cli('replay', 'x.sse')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('"replay" needs --worktree')
    expect(run.stderr).toContain('help: add --worktree DIR')
  })

  it('rejects a non-http watch URL', () => {
    const run = cli('watch', '--url', 'ftp://127.0.0.1:1', '--worktree', '.')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('unsupported URL scheme "ftp:" in --url "ftp://127.0.0.1:1"')
  })

  it('rejects a watch worktree that does not exist', () => {
    const run = cli('watch', '--url', 'http://127.0.0.1:4799', '--worktree', join(scratch, 'nowhere'))
    expect(run.status).toBe(2)
    expect(run.stderr).toContain(`worktree "${join(scratch, 'nowhere')}" does not exist`)
  })

  it('rejects explain without a request', () => {
    const run = cli('explain', '--worktree', scratch)
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('"explain" needs exactly one request, received none')
  })

  it('rejects explain with two requests', () => {
    const run = cli('explain', '--worktree', scratch, '--edit', 'a', '--fetch', 'http://x')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('received --edit and --fetch')
  })

  it('rejects a missing input file', () => {
    const run = cli('check', join(scratch, 'missing.yaml'))
    expect(run.status).toBe(2)
    expect(run.stderr).toContain(`cannot read config file "${join(scratch, 'missing.yaml')}": no such file`)
  })

  it('fails a replay in which no line could be read', () => {
    const capture = scratchFile('garbage.sse', 'data: {not json\ndata: [1,2\n')
    const run = cli('replay', capture, '--worktree', scratch)
    expect(run.status).toBe(1)
    expect(run.stderr).toContain(`no line of ${capture} could be read as an event`)
    expect(run.stdout).toContain('0 events, 0 decisions, 2 skipped lines')
  })

  it('names the file of a bad snapshot or policy', () => {
    const snapshot = join(scratch, 'bad.snapshot.json')
    writeFileSync(snapshot, '{ not json')
    const report = cli('report', '--snapshot', snapshot)
    expect(report.status).toBe(1)
    expect(report.stderr).toContain(`${snapshot}: invalid snapshot: not valid JSON`)
    const policy = join(scratch, 'bad-policy.yaml')
    writeFileSync(policy, 'permissions:\n  file_edit:\n    default: maybe\n')
    const explain = cli('explain', '--worktree', scratch, '--policy', policy, '--edit', 'a')
    expect(explain.status).toBe(1)
    expect(explain.stderr).toContain(`${policy}:3:`)
  })

  it('rejects report with neither source', () => {
    const run = cli('report')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('"report" needs exactly one of --snapshot FILE or --replay FILE')
  })
})

describe('check', () => {
  it('accepts a valid policy', () => {
    const file = scratchFile('good.yaml', 'permissions:\n  network_access: deny\n  install_packages: ask-user\n')
    const run = cli('check', file)
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout.trim()).toBe(`${file}: ok`)
  })

  it('reports each problem with its position', () => {
    const file = scratchFile('bad.yaml', 'permissions:\n  file_edit:\n    inside_worktree: maybe\n  network_acess: deny\n')
    const run = cli('check', file)
    expect(run.status).toBe(1)
    const lines = run.stdout.trim().split('\n')
    const problems = lines.filter((line) => line.startsWith(`${file}:`) && !line.endsWith('problems'))
    expect(problems.length).toBeGreaterThanOrEqual(2)
    expect(problems.find((line) => line.includes('maybe'))).toMatch(new RegExp(`^${escape(file)}:3:\\d+: `))
    expect(problems.find((line) => line.includes('network_acess'))).toMatch(new RegExp(`^${escape(file)}:4:\\d+: `))
    expect(lines.at(-1)).toMatch(/: \d+ problems$/)
  })
})

describe('explain', () => {
  it('prints one JSON object', () => {
    const policy = scratchFile('explain.yaml', 'permissions:\n  network_access: deny\n')
    const run = cli('explain', '--policy', policy, '--worktree', scratch, '--fetch', 'http://127.0.0.1:4799/x', '--json')
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const explanation = JSON.parse(run.stdout) as Record<string, unknown>
    expect(explanation.decision).toBe('deny')
    expect(explanation.category).toBe('network_access')
    expect(Array.isArray(explanation.effects)).toBe(true)
    expect(typeof explanation.rule).toBe('string')
  })

  it('finds an install inside a compound command', () => {
    const run = cli('explain', '--worktree', scratch, '--command', 'cd sub && npm install left-pad', '--json')
    expect(run.status).toBe(0)
    const explanation = JSON.parse(run.stdout) as { decision: string; category: string; effects: string[] }
    expect(explanation.category).toBe('install_packages')
    expect(explanation.decision).not.toBe('auto-approve')
    expect(explanation.effects.join('\n')).toContain('left-pad')
  })

  it('prints a readable explanation', () => {
    const run = cli('explain', '--worktree', scratch, '--edit', '../outside.txt')
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^decision: deny$/m)
    expect(run.stdout).toMatch(/^category: file_edit$/m)
    expect(run.stdout).toMatch(/^rule: /m)
  })
})

describe('replay', () => {
  it('reports a malformed line and continues', () => {
    const capture = scratchFile(
      'broken.sse',
      [
        'data: {"type":"server.connected","properties":{}}',
        '',
        'data: {"type": oops}',
        '',
        'data: {"type":"permission.asked","properties":{"id":"per_1","sessionID":"ses_1","permission":"edit","patterns":["a.txt"],"metadata":{"filepath":"' +
          join(scratch, 'a.txt') +
          '"},"always":["*"]}}',
        '',
      ].join('\n'),
    )
    const run = cli('replay', capture, '--worktree', scratch, '--json')
    expect(run.status).toBe(0)
    expect(run.stderr).toContain(`skipped ${capture}:3: invalid JSON`)
    const lines = jsonLines(run.stdout)
    expect(lines[0]).toMatchObject({ type: 'decision', permissionId: 'per_1', sessionId: 'ses_1', permission: 'edit', category: 'file_edit' })
    expect(lines.at(-1)).toMatchObject({ type: 'summary', skippedLines: 1, decisions: 1 })
  })

  it('prints budget actions in line order', () => {
    const sse = join(captures, 'edit-inside.sse')
    const facts = JSON.parse(readFileSync(join(captures, 'edit-inside.json'), 'utf8')) as { worktree: string }
    // About $0.006 of captured usage against a $0.001 cap per job.
    const plan = scratchFile('tiny-plan.yaml', 'plan: tiny\nbudget:\n  job: { usd: 0.001, onExceed: pause }\n')
    const run = cli('replay', sse, '--worktree', facts.worktree, '--plan', plan, '--json')
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const lines = jsonLines(run.stdout)
    const budget = lines.filter((line) => line.type === 'budget')
    expect(budget.map((line) => [line.kind, line.thresholdPercent ?? null])).toEqual([
      ['warning', 50],
      ['warning', 75],
      ['warning', 90],
      ['pause', null],
    ])
    expect(budget[0]).toMatchObject({ scope: 'job', jobId: 'replay', planId: 'tiny', capUsd: 0.001 })
    const order = lines.slice(0, -1).map((line) => line.line as number)
    expect(order).toEqual([...order].sort((a, b) => a - b))
    const summary = lines.at(-1) as { plans: Record<string, unknown> }
    expect(Object.keys(summary.plans)).toEqual(['tiny'])
  })

  // The captures come with the harness branch; these run once it is merged.
  const expected: Record<string, string[]> = {
    'edit-inside': ['auto-approve', 'auto-approve'],
    'write-outside': ['deny'],
    'npm-install': ['ask-user'],
    webfetch: ['deny'],
  }
  for (const [name, decisions] of Object.entries(expected)) {
    const sse = join(captures, `${name}.sse`)
    it.skipIf(!existsSync(sse))(`decides the ${name} capture`, () => {
      const facts = JSON.parse(readFileSync(join(captures, `${name}.json`), 'utf8')) as {
        worktree: string
        permissions: Array<{ id: string; sessionID: string; permission: string }>
      }
      const run = cli('replay', sse, '--worktree', facts.worktree, '--json')
      expect(run.stderr).toBe('')
      expect(run.status).toBe(0)
      const lines = jsonLines(run.stdout)
      const decisionLines = lines.filter((line) => line.type === 'decision')
      expect(decisionLines.map((line) => line.permissionId)).toEqual(facts.permissions.map((p) => p.id))
      expect(decisionLines.map((line) => line.decision)).toEqual(decisions)
      for (const line of decisionLines) {
        expect(Object.keys(line)).toEqual(expect.arrayContaining(['permissionId', 'sessionId', 'permission', 'category', 'decision', 'reason']))
      }
      const summary = lines.at(-1) as { type: string; tokens: Record<string, number>; costUsd: number; sessions: Record<string, unknown> }
      expect(summary.type).toBe('summary')
      expect(Object.keys(summary.tokens).sort()).toEqual(['cacheRead', 'cacheWrite', 'input', 'output', 'reasoning'])
      expect(summary.costUsd).toBeGreaterThan(0)
      expect(Object.keys(summary.sessions)).toContain(facts.permissions[0]?.sessionID)
    })
  }
})

describe('report', () => {
  const sse = join(captures, 'multi-step.sse')
  it.skipIf(!existsSync(sse))('reads back a saved snapshot', () => {
    const facts = JSON.parse(readFileSync(join(captures, 'multi-step.json'), 'utf8')) as { worktree: string }
    const snapshot = join(scratch, 'multi-step.snapshot.json')
    const replay = cli('replay', sse, '--worktree', facts.worktree, '--save-snapshot', snapshot, '--json')
    expect(replay.status).toBe(0)
    const replaySummary = jsonLines(replay.stdout).at(-1) as Record<string, unknown>

    const report = cli('report', '--snapshot', snapshot, '--json')
    expect(report.stderr).toBe('')
    expect(report.status).toBe(0)
    const reported = JSON.parse(report.stdout) as Record<string, unknown>
    expect(reported.type).toBe('report')
    expect(reported.tokens).toEqual(replaySummary.tokens)
    expect(reported.costUsd).toBe(replaySummary.costUsd)
    expect(reported.sessions).toEqual(replaySummary.sessions)
  })
})

describe('watch', () => {
  it('stops cleanly on SIGINT', async () => {
    // A loopback stand-in for opencode serve: one connected event, no pending requests.
    const server = http.createServer((req, res) => {
      if (req.url?.startsWith('/event')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('data: {"type":"server.connected","properties":{}}\n\n')
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('[]')
    })
    await new Promise<void>((resolve) => server.listen(4741, '127.0.0.1', resolve))
    try {
      const child = spawn(process.execPath, [bin, 'watch', '--url', 'http://127.0.0.1:4741', '--worktree', scratch], { cwd: root })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      const deadline = Date.now() + 30_000
      while (!stderr.includes('event stream connected') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(stdout).toContain('watching http://127.0.0.1:4741 as job "main"')
      child.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(stdout).toMatch(/^cost \$0\.000000/m)
      expect(stderr).toContain('INFO stopped watching job jobId=main')
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }, 40_000)
})

describe('demo', () => {
  it('runs to the end on loopback', () => {
    const result = spawnSync(process.execPath, [bin, 'demo', '--port-base', '4750'], { cwd: root, encoding: 'utf8', timeout: 180_000 })
    expect(result.stderr).not.toContain('ERROR')
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('decisions:')
    expect(result.stdout).toMatch(/^ {2}outside .*outside\.txt: not written$/m)
    expect(result.stdout).toMatch(/node_modules: not installed$/m)
    expect(result.stdout).toMatch(/^bash +install_packages +npm install left-pad +ask-user .* user: reject$/m)
    expect(result.stdout).toMatch(/^edit +file_edit +\S+notes\/todo\.md +auto-approve .* once$/m)
  }, 200_000)
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

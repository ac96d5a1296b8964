// A throwaway git repository with one commit. OpenCode derives its project id
// from the first commit, and tests write into the repository.

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface TempWorktree {
  /** Real path (symlinks resolved), as OpenCode reports it. */
  dir: string
  /** The parent folder, also temporary; a write to `../x` from the worktree lands here. */
  parent: string
  remove(): void
}

export function createWorktree(prefix = 'mcg-wt-'): TempWorktree {
  const parent = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)))
  const dir = path.join(parent, 'project')
  fs.mkdirSync(dir)
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      stdio: 'ignore',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'harness',
        GIT_AUTHOR_EMAIL: 'harness@example.invalid',
        GIT_COMMITTER_NAME: 'harness',
        GIT_COMMITTER_EMAIL: 'harness@example.invalid',
      },
    })
  git('init', '-q', '-b', 'main')
  fs.writeFileSync(path.join(dir, 'README.md'), '# scratch project\n')
  git('add', 'README.md')
  git('commit', '-q', '-m', 'initial commit')
  return { dir, parent, remove: () => fs.rmSync(parent, { recursive: true, force: true }) }
}

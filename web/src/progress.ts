// The step-by-step view of a store's workflow, derived from the progress
// query (while a workflow runs) and the store record (after it ended).
import type { OperationKind, Phase, Progress, StoreRecord, Workload } from './api'

export type StepState = 'done' | 'running' | 'failed' | 'compensated' | 'pending' | 'skipped'

export interface ViewStep {
  name: string
  label: string
  state: StepState
  error?: string
  startedAt?: string
  completedAt?: string
  /** workloads are shown under the readiness step. */
  workloads?: Workload[]
}

// The steps each workflow runs, in order (workflows/create.go, delete.go).
// "record" appears twice: the status written first and the one written last.
const createPlan: [string, string][] = [
  ['record', 'Record the store as provisioning'],
  ['namespace', 'Create the namespace'],
  ['credentials', 'Generate the credentials'],
  ['install', 'Install the Helm release'],
  ['wait-ready', 'Wait until every workload is ready'],
  ['record', 'Record the store as ready'],
]

const deletePlan: [string, string][] = [
  ['record', 'Record the store as deleting'],
  ['stop-create', 'Stop the creation, if one runs'],
  ['uninstall', 'Uninstall the Helm release'],
  ['delete-namespace', 'Delete the namespace'],
  ['record', 'Record the store as deleted'],
]

// OperateStore's steps (workflows/operate.go): an upgrade for a change,
// suspend or resume, a Helm rollback for a rollback.
function operationPlan(kind: OperationKind): [string, string][] {
  const apply: [string, string] =
    kind === 'rollback'
      ? ['rollback', 'Roll the Helm release back']
      : ['upgrade', kind === 'upgrade' ? 'Upgrade to the new chart version' : 'Upgrade the Helm release']
  const wait = kind === 'suspend' ? 'Wait until every pod is gone' : 'Wait until every workload is ready'
  return [
    ['record', `Record the ${kind}`],
    ['release-state', 'Note the revision deployed now'],
    apply,
    ['wait-ready', wait],
    ['record', 'Record the result'],
  ]
}

const extraLabels: Record<string, string> = {
  compensate: 'Undo the partial store',
  force: 'Remove the blocking finalizers',
  'auto-rollback': 'Roll back to the revision that was ready',
}

const deletePhases: Phase[] = ['deleting', 'deletion_stuck', 'deleted']
const operationPhases: Phase[] = ['updating', 'degraded', 'ready', 'suspended']

export type WorkflowKind = 'create' | 'delete' | OperationKind

/** workflowOf says which workflow the view shows: the one running, else the last one. */
export function workflowOf(rec: StoreRecord, p?: Progress): WorkflowKind {
  if (p) return p.workflow
  if (deletePhases.includes(rec.phase)) return 'delete'
  const op = rec.operation?.kind ?? rec.lastOperation?.kind
  if (op && operationPhases.includes(rec.phase)) return op
  return 'create'
}

function planOf(kind: WorkflowKind): [string, string][] {
  if (kind === 'create') return createPlan
  if (kind === 'delete') return deletePlan
  return operationPlan(kind)
}

/** finishedPhase is true when the record shows that the workflow of kind has ended well. */
function finishedPhase(kind: WorkflowKind, rec: StoreRecord): boolean {
  if (kind === 'create') return rec.phase === 'ready'
  if (kind === 'delete') return rec.phase === 'deleted'
  return !rec.operation && (rec.phase === 'ready' || rec.phase === 'suspended')
}

/**
 * buildSteps lists the workflow's steps in order with their state: the
 * steps the progress reports for the current attempt, lined up with the
 * workflow's plan, then the steps still to come. A finished workflow
 * answers no query, so after it the record's phase says how it ended.
 */
export function buildSteps(rec: StoreRecord, p?: Progress): ViewStep[] {
  const kind = workflowOf(rec, p)
  const plan = planOf(kind)
  const attempt = p?.attempt ?? 1
  const finished = finishedPhase(kind, rec)
  const out: ViewStep[] = []
  const inPlan = (name: string) => plan.some(([n]) => n === name)
  let pos = 0
  for (const s of p?.steps ?? []) {
    if (kind === 'create' && s.attempt !== attempt) continue
    const step: ViewStep = {
      name: s.name,
      label: extraLabels[s.name] ?? s.name,
      state: s.status,
      error: s.error,
      startedAt: s.startedAt,
      completedAt: s.completedAt,
    }
    let j = -1
    for (let k = pos; k < plan.length; k++) {
      if (plan[k][0] === s.name) {
        j = k
        break
      }
    }
    if (j >= 0) {
      // The workflow runs its steps in order: the ones before this have run.
      for (; pos < j; pos++) out.push({ name: plan[pos][0], label: plan[pos][1], state: 'done' })
      step.label = plan[j][1]
      out.push(step)
      pos = j + 1
      continue
    }
    // A step run again (after a retry or force signal): its latest run counts.
    let again = -1
    if (inPlan(s.name)) {
      for (let k = out.length - 1; k >= 0 && again < 0; k--) if (out[k].name === s.name) again = k
    }
    if (again >= 0) {
      step.label = out[again].label
      out[again] = step
    } else {
      out.push(step)
    }
  }
  for (; pos < plan.length; pos++) {
    out.push({ name: plan[pos][0], label: plan[pos][1], state: finished ? 'done' : 'pending' })
  }
  for (const step of out) {
    if (finished && step.state === 'running') step.state = 'done'
    if (kind === 'create' && rec.phase === 'failed' && step.state === 'pending') step.state = 'skipped'
    if (step.name === 'wait-ready' && rec.workloads?.length) step.workloads = rec.workloads
  }
  return out
}

/** lastError is what went wrong last, if anything. */
export function lastError(rec: StoreRecord, p?: Progress): string {
  if (p?.lastError) return p.lastError
  if (rec.phase === 'failed' || rec.phase === 'deletion_stuck' || rec.phase === 'degraded') return rec.message ?? ''
  return ''
}

const stateText: Record<StepState, string> = {
  done: 'done',
  running: 'in progress',
  failed: 'failed',
  compensated: 'undone',
  pending: 'not started',
  skipped: 'skipped',
}

export function stateLabel(s: StepState): string {
  return stateText[s]
}

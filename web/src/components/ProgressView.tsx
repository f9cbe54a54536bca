import { useEffect, useState } from 'react'
import type { Progress, StoreRecord } from '../api'
import { between, duration } from '../format'
import { buildSteps, lastError, stateLabel, workflowOf, type ViewStep, type WorkflowKind } from '../progress'

const titles: Record<WorkflowKind, string> = {
  create: 'Creation',
  delete: 'Deletion',
  change: 'Change',
  rollback: 'Rollback',
  suspend: 'Suspension',
  resume: 'Resumption',
  upgrade: 'Chart upgrade',
}

export function ProgressView({ record, progress }: { record: StoreRecord; progress?: Progress }) {
  const steps = buildSteps(record, progress)
  const err = lastError(record, progress)
  const kind = workflowOf(record, progress)
  const running = steps.some((s) => s.state === 'running' && s.startedAt)
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!running) return
    setNow(Date.now())
    const t = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(t)
  }, [running])
  return (
    <section className="card progress" aria-labelledby="progress-title">
      <h2 id="progress-title">{titles[kind]} progress</h2>
      {progress && progress.attempt > 1 && <p className="muted">Attempt {progress.attempt}</p>}
      <ol className="steps">
        {steps.map((s, i) => (
          <li key={`${i}-${s.name}`} className={`step step-${s.state}`} data-step={s.name} data-state={s.state}>
            <span className="step-icon" aria-hidden="true" />
            <span className="step-label">{s.label}</span>
            <span className="step-state">{stateLabel(s.state)}</span>
            {s.startedAt && <StepTime step={s} now={now} />}
            {s.error && <p className="step-error">{s.error}</p>}
            {s.workloads && (
              <ul className="workloads" aria-label="Workloads">
                {s.workloads.map((w) => (
                  <li key={`${w.kind}/${w.name}`} data-ready={w.ready >= w.desired ? 'yes' : 'no'}>
                    <span className="workload-name">
                      {w.kind} {w.name}
                    </span>{' '}
                    <span>
                      {w.ready}/{w.desired} ready
                    </span>
                    {w.reason && w.ready < w.desired && <span className="muted"> ({w.reason})</span>}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
      {err && (
        <div className="last-error" role="alert">
          <h3>Last error</h3>
          <p>{err}</p>
        </div>
      )}
      {progress?.waitingFor && (
        <p className="notice">
          The workflow waits for a signal: <strong>{progress.waitingFor}</strong> (the buttons above, or{' '}
          <code>temporal workflow signal</code>).
        </p>
      )}
    </section>
  )
}

/** stepTimeText says when a step started and how long it took, or has taken so far. */
export function stepTimeText(s: ViewStep, now: number): string {
  if (!s.startedAt) return ''
  const started = `started ${new Date(s.startedAt).toLocaleTimeString()}`
  if (s.completedAt) return `${started}, took ${between(s.startedAt, s.completedAt)}`
  if (s.state === 'running') return `${started}, running for ${duration(now - Date.parse(s.startedAt))}`
  return started
}

function StepTime({ step, now }: { step: ViewStep; now: number }) {
  return (
    <span className="step-time" data-testid="step-time">
      <time dateTime={step.startedAt}>{stepTimeText(step, now)}</time>
    </span>
  )
}

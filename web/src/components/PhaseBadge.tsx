import type { Phase } from '../api'
import { phaseLabel } from '../format'

export function PhaseBadge({ phase }: { phase: Phase }) {
  return (
    <span className={`badge phase-${phase}`} data-phase={phase}>
      {phaseLabel(phase)}
    </span>
  )
}

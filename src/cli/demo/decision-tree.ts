/** (4) The decision tree: filled in with the Node runtime layer. */
export interface DecisionTreeFigures {
  readonly blocking:
    | { readonly durationMs: number; readonly frames: readonly string[] }
    | undefined;
  readonly jobs: number;
  readonly mainThreadMs: number;
  readonly workerMs: number;
  readonly blockedDuringWorker: boolean;
}

export async function decisionTree(): Promise<DecisionTreeFigures> {
  return { blocking: undefined, jobs: 0, mainThreadMs: 0, workerMs: 0, blockedDuringWorker: false };
}

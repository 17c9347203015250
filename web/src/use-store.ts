import { useEffect, useReducer } from 'preact/hooks';
import type { Store } from './store';

/** Re-renders the component whenever the store changes. */
export function useStore(store: Store): Store {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => store.subscribe(() => bump(undefined)), [store]);
  return store;
}

/** Validation as you type: ask the host (which knows names taken, its memory, real files) after a pause. */
import { useEffect, useState } from 'react';
import type { FieldErrors } from '../../../app/contract/api';

export function useCheck<T>(value: T, check: (value: T) => Promise<FieldErrors>, delayMs = 150): { errors: FieldErrors; checking: boolean } {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [checking, setChecking] = useState(true);
  const key = JSON.stringify(value);
  useEffect(() => {
    let stale = false;
    setChecking(true);
    const timer = setTimeout(() => {
      check(JSON.parse(key) as T).then(
        (result) => {
          if (!stale) {
            setErrors(result);
            setChecking(false);
          }
        },
        () => {
          if (!stale) setChecking(false);
        },
      );
    }, delayMs);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
    // `check` is recreated every render on purpose: the value (key) is what matters.
  }, [key, delayMs]);
  return { errors, checking };
}

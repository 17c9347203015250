import type { ComponentChildren } from 'preact';

interface TextFieldProps {
  id: string;
  label: ComponentChildren;
  value: string;
  onValue: (value: string) => void;
  required?: boolean;
  placeholder?: string;
  autoComplete?: string;
  inputMode?: 'numeric' | 'tel' | 'text';
  maxLength?: number;
}

/**
 * A labelled text input: every field on the page has its accessible name this way. Phone
 * fields ask for the phone keypad with `inputMode="tel"`.
 */
export function TextField({ id, label, value, onValue, ...input }: TextFieldProps) {
  return (
    <>
      <label for={id}>{label}</label>
      <input id={id} {...input} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </>
  );
}

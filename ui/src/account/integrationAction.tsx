import { Alert, Anchor, Button, Group, Modal, Stack, Text, TextInput } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef, useState, type FormEvent, type ReactNode } from "react";
import { routeHref } from "../app/router";
import { useBackend } from "../ipc/BackendProvider";
import { errorMessage, IpcError } from "../ipc/IpcError";
import { invalidate } from "../queryKeys";

/** Asks for a two-factor code (or a recovery code) and verifies the app session with it. */
export function VerifyCodeModal({
  opened,
  onClose,
  onVerified,
}: {
  opened: boolean;
  onClose: () => void;
  onVerified: () => void;
}) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    try {
      await backend.verifySession(code);
      setCode("");
      setError(null);
      await invalidate.mfaChanged(queryClient);
      onVerified();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setPending(false);
    }
  };
  return (
    <Modal opened={opened} onClose={onClose} title="Two-factor authentication">
      <form onSubmit={(e) => void submit(e)}>
        <Stack gap="sm">
          <Text size="sm">
            Enter the 6-digit code from your authenticator app, or one of your recovery codes, to
            continue. You will not be asked again until you sign out or lock.
          </Text>
          <TextInput
            label="Code"
            autoComplete="one-time-code"
            value={code}
            onChange={(e) => setCode(e.currentTarget.value)}
            data-testid="verify-code-input"
            data-autofocus
          />
          {error && (
            <Alert color="red" role="alert" data-testid="verify-code-error">
              {error}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button
              type="submit"
              loading={pending}
              disabled={code.trim() === ""}
              data-testid="verify-code-submit"
            >
              Verify
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** What {@link useIntegrationAction} hands its caller. */
export type IntegrationAction<T> = {
  /** Runs the action; resolves to its result, or `undefined` if it did not (yet) succeed. */
  run: () => Promise<T | undefined>;
  pending: boolean;
  /** The last failure other than the two-factor ones (those are handled here). */
  error: unknown;
  /** Render this next to the button: the "enable 2FA" notice and the code prompt. */
  ui: ReactNode;
};

/**
 * Wraps an integration action (connect, test, pull, push…) in the two-factor gate's UI: on
 * `mfaRequired` it shows "Enable two-factor authentication to connect to Xero" with a link to
 * Account → Security; on `mfaCodeRequired` it asks for a code, verifies the session and runs the
 * action again. Other errors are returned in `error` for the caller to show.
 */
export function useIntegrationAction<T>(
  action: () => Promise<T>,
  onSuccess?: (result: T) => void,
): IntegrationAction<T> {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [mfaRequired, setMfaRequired] = useState<string | null>(null);
  const [prompting, setPrompting] = useState(false);
  const latest = useRef({ action, onSuccess });
  latest.current = { action, onSuccess };

  const run = useCallback(async (): Promise<T | undefined> => {
    setPending(true);
    setError(null);
    setMfaRequired(null);
    try {
      const result = await latest.current.action();
      latest.current.onSuccess?.(result);
      return result;
    } catch (e) {
      const err = IpcError.from(e);
      if (err.code === "mfaRequired") setMfaRequired(err.message);
      else if (err.code === "mfaCodeRequired") setPrompting(true);
      else setError(err);
      return undefined;
    } finally {
      setPending(false);
    }
  }, []);

  const ui = (
    <>
      {mfaRequired && (
        <Alert color="yellow" role="alert" data-testid="mfa-required">
          <Text size="sm">{mfaRequired}</Text>
          <Anchor href={routeHref({ page: "security" })} size="sm" data-testid="mfa-required-link">
            Open Account → Security
          </Anchor>
        </Alert>
      )}
      <VerifyCodeModal
        opened={prompting}
        onClose={() => setPrompting(false)}
        onVerified={() => {
          setPrompting(false);
          void run();
        }}
      />
    </>
  );
  return { run, pending, error, ui };
}

/** Shows an integration action's other failures. */
export function IntegrationError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert" data-testid="integration-error">
      {errorMessage(error)}
    </Alert>
  );
}

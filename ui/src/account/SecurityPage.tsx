import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  CopyButton,
  Group,
  Image,
  List,
  Loader,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ErrorState } from "../common/ErrorState";
import { notifySuccess } from "../common/notify";
import { useBackend } from "../ipc/BackendProvider";
import type { MfaEnrolment } from "../ipc/bindings/MfaEnrolment";
import { errorMessage } from "../ipc/IpcError";
import { invalidate, queryKeys } from "../queryKeys";

/** Account → Security: two-factor authentication on or off, enrolment, recovery codes. */
export function SecurityPage() {
  const backend = useBackend();
  const mfa = useQuery({ queryKey: queryKeys.mfa, queryFn: () => backend.mfaStatus() });
  // Held only in this component's memory, and dropped once the user has saved them.
  const [enrolment, setEnrolment] = useState<MfaEnrolment | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);

  return (
    <Stack maw={720}>
      <Title order={2}>Security</Title>
      <Card withBorder padding="lg">
        <Group justify="space-between" mb="sm">
          <Title order={4}>Two-factor authentication</Title>
          {mfa.data && (
            <Badge
              color={mfa.data.enrolled ? "green" : "gray"}
              variant="light"
              data-testid="mfa-state"
            >
              {mfa.data.enrolled ? "On" : "Off"}
            </Badge>
          )}
        </Group>
        {mfa.isPending && <Loader size="sm" aria-label="Loading" />}
        {mfa.isError && <ErrorState error={mfa.error} onRetry={() => void mfa.refetch()} />}
        {mfa.data &&
          (recoveryCodes ? (
            <RecoveryCodes codes={recoveryCodes} onDone={() => setRecoveryCodes(null)} />
          ) : enrolment ? (
            <ConfirmEnrolment
              enrolment={enrolment}
              onCancel={() => setEnrolment(null)}
              onConfirmed={(codes) => {
                setEnrolment(null);
                setRecoveryCodes(codes);
              }}
            />
          ) : mfa.data.enrolled ? (
            <Enabled remaining={mfa.data.recoveryCodesRemaining} />
          ) : (
            <Disabled onStarted={setEnrolment} />
          ))}
      </Card>
    </Stack>
  );
}

function Disabled({ onStarted }: { onStarted: (e: MfaEnrolment) => void }) {
  const backend = useBackend();
  const begin = useMutation({
    mutationFn: () => backend.mfaBeginEnrolment(),
    onSuccess: onStarted,
  });
  return (
    <Stack gap="sm">
      <Text size="sm">
        Two-factor authentication is off. Turn it on to connect to Xero: signing in will then need
        your password and, before any Xero action, a code from an authenticator app on your phone.
      </Text>
      {begin.isError && (
        <Alert color="red" role="alert">
          {errorMessage(begin.error)}
        </Alert>
      )}
      <Group>
        <Button onClick={() => begin.mutate()} loading={begin.isPending} data-testid="mfa-enable">
          Enable Two-Factor Authentication
        </Button>
      </Group>
    </Stack>
  );
}

function ConfirmEnrolment({
  enrolment,
  onCancel,
  onConfirmed,
}: {
  enrolment: MfaEnrolment;
  onCancel: () => void;
  onConfirmed: (codes: string[]) => void;
}) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [code, setCode] = useState("");
  const confirm = useMutation({
    mutationFn: () => backend.mfaConfirm(code.trim()),
    onSuccess: (codes) => {
      void invalidate.mfaChanged(queryClient);
      onConfirmed(codes);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    confirm.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack gap="sm">
        <Text size="sm">
          1. Scan this QR code with an authenticator app (Google Authenticator, Microsoft
          Authenticator, 1Password…), or type the key in by hand.
        </Text>
        <SimpleGrid cols={2} spacing="md">
          <Image
            src={enrolment.qrDataUrl}
            alt="QR code for your authenticator app"
            w={180}
            h={180}
            fit="contain"
            data-testid="mfa-qr"
          />
          <Stack gap={4}>
            <Text size="xs" c="dimmed">
              Manual key
            </Text>
            <Code fz="sm" style={{ wordBreak: "break-all" }} data-testid="mfa-manual-key">
              {enrolment.manualKey}
            </Code>
            <Text size="xs" c="dimmed" mt="xs">
              Setup link
            </Text>
            <Code fz="xs" style={{ wordBreak: "break-all" }} data-testid="mfa-otpauth-uri">
              {enrolment.otpauthUri}
            </Code>
          </Stack>
        </SimpleGrid>
        <Text size="sm">2. Enter the 6-digit code the app shows.</Text>
        <TextInput
          label="Code"
          autoComplete="one-time-code"
          inputMode="numeric"
          maw={200}
          value={code}
          onChange={(e) => setCode(e.currentTarget.value)}
          data-testid="mfa-confirm-code"
        />
        {confirm.isError && (
          <Alert color="red" role="alert" data-testid="mfa-confirm-error">
            {errorMessage(confirm.error)}
          </Alert>
        )}
        <Group>
          <Button
            type="submit"
            loading={confirm.isPending}
            disabled={code.trim() === ""}
            data-testid="mfa-confirm-submit"
          >
            Turn on
          </Button>
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  return (
    <Stack gap="sm" data-testid="recovery-codes">
      <Alert color="yellow" title="Save your recovery codes now">
        Each code signs you in once if you lose your phone. They are shown only this once: copy them
        to your password manager or print them.
      </Alert>
      <List spacing={2} ff="monospace" listStyleType="none">
        {codes.map((c) => (
          <List.Item key={c} data-testid="recovery-code">
            {c}
          </List.Item>
        ))}
      </List>
      <Group>
        <CopyButton value={codes.join("\n")}>
          {({ copied, copy }) => (
            <Button variant="light" onClick={copy} data-testid="recovery-copy">
              {copied ? "Copied" : "Copy codes"}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Checkbox
        label="I have saved these"
        checked={saved}
        onChange={(e) => setSaved(e.currentTarget.checked)}
        data-testid="recovery-saved"
      />
      <Group>
        <Button
          disabled={!saved}
          onClick={() => {
            notifySuccess("Two-factor authentication is on.");
            onDone();
          }}
          data-testid="recovery-done"
        >
          Done
        </Button>
      </Group>
    </Stack>
  );
}

function Enabled({ remaining }: { remaining: number }) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [code, setCode] = useState("");
  const disable = useMutation({
    mutationFn: () => backend.mfaDisable(code.trim()),
    onSuccess: () => {
      setCode("");
      notifySuccess("Two-factor authentication is off.");
      void invalidate.mfaChanged(queryClient);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    disable.mutate();
  };
  return (
    <Stack gap="sm">
      <Text size="sm" data-testid="mfa-enabled">
        Two-factor authentication is on. Xero actions ask for a code once per session.
      </Text>
      <Text size="sm" c={remaining < 3 ? "red" : "dimmed"} data-testid="recovery-remaining">
        {remaining} unused recovery {remaining === 1 ? "code" : "codes"} left.
      </Text>
      <form onSubmit={submit}>
        <Stack gap="xs">
          <Text size="sm" fw={600}>
            Turn off two-factor authentication
          </Text>
          <Text size="sm" c="dimmed">
            Enter a code from your authenticator app or a recovery code. Xero actions will stop
            working until you turn it on again.
          </Text>
          <Group align="flex-end">
            <TextInput
              label="Code"
              autoComplete="one-time-code"
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
              data-testid="mfa-disable-code"
            />
            <Button
              type="submit"
              color="red"
              variant="light"
              loading={disable.isPending}
              disabled={code.trim() === ""}
              data-testid="mfa-disable-submit"
            >
              Turn off
            </Button>
          </Group>
          {disable.isError && (
            <Alert color="red" role="alert">
              {errorMessage(disable.error)}
            </Alert>
          )}
        </Stack>
      </form>
    </Stack>
  );
}

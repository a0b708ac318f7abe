import {
  Alert,
  Button,
  Center,
  Container,
  Loader,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { ErrorState } from "../common/ErrorState";
import { useBackend } from "../ipc/BackendProvider";
import type { AuthStatus } from "../ipc/bindings/AuthStatus";
import { errorMessage } from "../ipc/IpcError";
import { invalidate, queryKeys } from "../queryKeys";

/** Where the sign-in page remembers the last username (never the password). */
export const LAST_USERNAME_KEY = "structuregram.lastUsername";

/** Shortest password the backend accepts (core `accounts::MIN_PASSWORD_LEN`). */
const MIN_PASSWORD_LEN = 8;

function rememberUsername(status: AuthStatus) {
  if (status.user) window.localStorage.setItem(LAST_USERNAME_KEY, status.user.username);
}

/** The auth status query; every account component reads the same cached value. */
export function useAuthStatus() {
  const backend = useBackend();
  return useQuery({ queryKey: queryKeys.auth, queryFn: () => backend.authStatus() });
}

/**
 * Shows the app only to a signed-in user: first run → "Create your account"; signed out or
 * locked → sign-in; signed in → `children`.
 */
export function AuthGate({ children }: { children: ReactNode }) {
  const auth = useAuthStatus();
  if (auth.isPending)
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  if (auth.isError)
    return (
      <Container size="xs" pt="xl">
        <ErrorState error={auth.error} onRetry={() => void auth.refetch()} />
      </Container>
    );
  const status = auth.data;
  if (status.user === null)
    return status.firstRun ? <SignUpPage status={status} /> : <SignInPage status={status} />;
  return <>{children}</>;
}

function Card({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Center mih="100vh" bg="gray.0">
      <Paper withBorder shadow="sm" p="xl" w={420}>
        <Title order={2} c="indigo.8" mb={4}>
          StructureGram
        </Title>
        <Title order={4} mb="md">
          {title}
        </Title>
        {children}
      </Paper>
    </Center>
  );
}

/** First run: the first account, and the organisation it belongs to. */
export function SignUpPage({ status }: { status: AuthStatus }) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const existing = status.organisations[0] ?? null;
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [organisation, setOrganisation] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const signUp = useMutation({
    mutationFn: () => backend.signUp(username, password, existing ? null : organisation),
    onSuccess: (next) => {
      rememberUsername(next);
      invalidate.sessionChanged(queryClient, next);
    },
    // If the account was made but not opened (or made elsewhere meanwhile), the re-read status
    // is no longer first run and the sign-in page takes over.
    onError: () => void queryClient.invalidateQueries({ queryKey: queryKeys.auth }),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password.length < MIN_PASSWORD_LEN)
      return setProblem(`Choose a password of at least ${MIN_PASSWORD_LEN} characters.`);
    if (password !== confirm)
      return setProblem("The two passwords differ. Type the same password twice.");
    if (!existing && organisation.trim() === "")
      return setProblem("Enter a name for your organisation (your practice).");
    setProblem(null);
    signUp.mutate();
  };

  const error = problem ?? (signUp.isError ? errorMessage(signUp.error) : null);
  return (
    <Card title="Create your account">
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            Your account keeps this practice&rsquo;s data and your two-factor and Xero secrets on
            this computer. Choose a password you will remember: it cannot be recovered.
          </Text>
          <TextInput
            label="Username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.currentTarget.value)}
            data-testid="signup-username"
            required
          />
          <PasswordInput
            label="Password"
            description={`At least ${MIN_PASSWORD_LEN} characters`}
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            data-testid="signup-password"
            required
          />
          <PasswordInput
            label="Confirm password"
            autoComplete="new-password"
            value={confirm}
            onChange={(e) => setConfirm(e.currentTarget.value)}
            data-testid="signup-confirm"
            required
          />
          {existing ? (
            <Text size="sm" data-testid="signup-join-organisation">
              You will join the organisation <b>{existing.name}</b>, which already holds the data in
              this folder.
            </Text>
          ) : (
            <TextInput
              label="Organisation name"
              description="Your practice; you can add more organisations later"
              value={organisation}
              onChange={(e) => setOrganisation(e.currentTarget.value)}
              data-testid="signup-organisation"
              required
            />
          )}
          {error && (
            <Alert color="red" role="alert" data-testid="signup-error">
              {error}
            </Alert>
          )}
          <Button type="submit" loading={signUp.isPending} data-testid="signup-submit">
            Create account
          </Button>
        </Stack>
      </form>
    </Card>
  );
}

/** Sign-in, or unlocking after Lock (the username is kept). */
export function SignInPage({ status }: { status: AuthStatus }) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const locked = status.lockedUsername !== null;
  const [username, setUsername] = useState(
    () => status.lockedUsername ?? window.localStorage.getItem(LAST_USERNAME_KEY) ?? "",
  );
  const [password, setPassword] = useState("");
  const signIn = useMutation({
    mutationFn: () => backend.signIn(username, password),
    onSuccess: (next) => {
      rememberUsername(next);
      invalidate.sessionChanged(queryClient, next);
    },
    onError: () => setPassword(""),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate();
  };

  return (
    <Card title={locked ? "StructureGram is locked" : "Sign in"}>
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          {locked && (
            <Text size="sm" c="dimmed">
              Enter your password to unlock.
            </Text>
          )}
          <TextInput
            label="Username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.currentTarget.value)}
            data-testid="signin-username"
            required
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            data-testid="signin-password"
            data-autofocus
            required
          />
          {signIn.isError && (
            <Alert color="red" role="alert" data-testid="signin-error">
              {errorMessage(signIn.error)}
            </Alert>
          )}
          <Button
            type="submit"
            loading={signIn.isPending}
            disabled={username.trim() === "" || password === ""}
            data-testid="signin-submit"
          >
            {locked ? "Unlock" : "Sign in"}
          </Button>
        </Stack>
      </form>
    </Card>
  );
}

import { Alert, Button, Group, Text } from "@mantine/core";
import { errorHint, errorMessage } from "../ipc/IpcError";

/** A failed load: the backend's message, what to do next, and a retry button. */
export function ErrorState({
  error,
  onRetry,
  title,
}: {
  error: unknown;
  onRetry?: () => void;
  title?: string;
}) {
  return (
    <Alert color="red" title={title ?? "Something went wrong"} role="alert" variant="light">
      <Text size="sm">{errorMessage(error)}</Text>
      <Text size="sm" c="dimmed" mt={4}>
        {errorHint(error)}
      </Text>
      {onRetry && (
        <Group mt="sm">
          <Button size="xs" variant="light" color="red" onClick={onRetry}>
            Retry
          </Button>
        </Group>
      )}
    </Alert>
  );
}

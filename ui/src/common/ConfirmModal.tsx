import { Alert, Button, Group, Modal, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { errorHint, errorMessage } from "../ipc/IpcError";

/** A destructive-action confirmation that stays open (showing the error) if the action fails. */
export function ConfirmModal(props: {
  opened: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  loading?: boolean;
  error?: unknown;
}) {
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={props.title} centered>
      <Stack>
        <Text size="sm" component="div">
          {props.children}
        </Text>
        {props.error !== null && props.error !== undefined && (
          <Alert color="red" role="alert">
            {errorMessage(props.error)} {errorHint(props.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose} disabled={props.loading}>
            Cancel
          </Button>
          <Button
            color="red"
            onClick={props.onConfirm}
            loading={props.loading}
            data-testid="confirm-action"
          >
            {props.confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

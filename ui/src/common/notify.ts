import { notifications } from "@mantine/notifications";
import { errorHint, errorMessage } from "../ipc/IpcError";

export function notifyError(title: string, error: unknown) {
  notifications.show({
    color: "red",
    title,
    message: `${errorMessage(error)} ${errorHint(error)}`,
    autoClose: 8000,
  });
}

export function notifySuccess(message: string, title?: string) {
  notifications.show({ color: "green", title, message, autoClose: 4000 });
}

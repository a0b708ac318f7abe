import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { AppShellLayout } from "../app/AppShellLayout";
import { MOCK_ORGANISATION, MOCK_TOTP_CODE, MOCK_USER, MockBackend } from "../ipc/mockBackend";
import { renderWithBackend } from "../test/render";
import { AuthGate, LAST_USERNAME_KEY } from "./AuthGate";
import { IntegrationsPage } from "./IntegrationsPage";
import { SecurityPage } from "./SecurityPage";

function renderApp(backend: MockBackend) {
  return renderWithBackend(
    <AuthGate>
      <AppShellLayout />
    </AuthGate>,
    backend,
  );
}

const methods = (backend: MockBackend) => backend.calls.map((c) => c.method);

afterEach(() => window.localStorage.clear());

describe("first run", () => {
  it("creates the account and organisation, then opens the app signed in", async () => {
    const backend = new MockBackend({ auth: "firstRun", demo: false });
    renderApp(backend);
    expect(await screen.findByText("Create your account")).toBeInTheDocument();

    await userEvent.type(screen.getByTestId("signup-username"), "ana");
    await userEvent.type(screen.getByTestId("signup-password"), "correct horse");
    await userEvent.type(screen.getByTestId("signup-confirm"), "correct hors");
    await userEvent.type(screen.getByTestId("signup-organisation"), "Ana & Co Accountants");
    await userEvent.click(screen.getByTestId("signup-submit"));
    expect(await screen.findByTestId("signup-error")).toHaveTextContent("The two passwords differ");
    expect(methods(backend)).not.toContain("signUp");

    await userEvent.type(screen.getByTestId("signup-confirm"), "e");
    await userEvent.click(screen.getByTestId("signup-submit"));

    expect(await screen.findByTestId("user-name")).toHaveTextContent("ana");
    expect(screen.getByTestId("active-organisation")).toHaveTextContent("Ana & Co Accountants");
    expect(await screen.findAllByTestId("group-row")).not.toHaveLength(0);
    // The password never appears among the recorded arguments.
    expect(backend.calls.find((c) => c.method === "signUp")?.args).toEqual([
      "ana",
      "Ana & Co Accountants",
    ]);
    expect(window.localStorage.getItem(LAST_USERNAME_KEY)).toBe("ana");
  });

  it("in the demo, joins the existing organisation without asking for a name", async () => {
    const backend = new MockBackend({ auth: "firstRun" });
    renderApp(backend);
    expect(await screen.findByTestId("signup-join-organisation")).toHaveTextContent(
      MOCK_ORGANISATION,
    );
    expect(screen.queryByTestId("signup-organisation")).not.toBeInTheDocument();
    await userEvent.type(screen.getByTestId("signup-username"), "newcomer");
    await userEvent.type(screen.getByTestId("signup-password"), "12345678");
    await userEvent.type(screen.getByTestId("signup-confirm"), "12345678");
    await userEvent.click(screen.getByTestId("signup-submit"));
    expect(await screen.findByTestId("active-organisation")).toHaveTextContent(MOCK_ORGANISATION);
    expect(backend.calls.find((c) => c.method === "signUp")?.args).toEqual(["newcomer", null]);
  });
});

describe("sign-in", () => {
  it("shows the backend's message for a wrong password, then signs in with the right one", async () => {
    window.localStorage.setItem(LAST_USERNAME_KEY, MOCK_USER.username);
    const backend = new MockBackend({ auth: "signedOut" });
    renderApp(backend);
    const username = await screen.findByTestId("signin-username");
    expect(username).toHaveValue(MOCK_USER.username);

    await userEvent.type(screen.getByTestId("signin-password"), "not my password");
    await userEvent.click(screen.getByTestId("signin-submit"));
    expect(await screen.findByTestId("signin-error")).toHaveTextContent(
      "The username or password is wrong.",
    );
    expect(screen.getByTestId("signin-password")).toHaveValue("");
    expect(screen.queryByTestId("user-menu")).not.toBeInTheDocument();

    await userEvent.type(screen.getByTestId("signin-password"), MOCK_USER.password);
    await userEvent.click(screen.getByTestId("signin-submit"));
    expect(await screen.findByTestId("user-name")).toHaveTextContent(MOCK_USER.username);
  });

  it("locking returns to an unlock form with the username kept", async () => {
    const backend = new MockBackend();
    renderApp(backend);
    await userEvent.click(await screen.findByTestId("user-menu"));
    await userEvent.click(await screen.findByTestId("lock"));
    expect(await screen.findByText("StructureGram is locked")).toBeInTheDocument();
    expect(screen.getByTestId("signin-username")).toHaveValue(MOCK_USER.username);
    await expect(backend.listGroups()).rejects.toMatchObject({ code: "signedOut" });
  });
});

describe("organisations", () => {
  it("creates a new organisation from the header menu and switches back", async () => {
    const backend = new MockBackend();
    renderApp(backend);
    expect(await screen.findByTestId("active-organisation")).toHaveTextContent(MOCK_ORGANISATION);
    await userEvent.click(screen.getByTestId("user-menu"));
    await userEvent.click(await screen.findByTestId("new-organisation"));
    await userEvent.type(await screen.findByTestId("new-organisation-name"), "Second Practice");
    await userEvent.click(screen.getByTestId("new-organisation-submit"));
    await waitFor(() =>
      expect(screen.getByTestId("active-organisation")).toHaveTextContent("Second Practice"),
    );

    await userEvent.click(screen.getByTestId("user-menu"));
    const items = await screen.findAllByTestId("organisation-item");
    expect(items.map((i) => i.textContent)).toEqual([
      expect.stringContaining(MOCK_ORGANISATION),
      expect.stringContaining("Second Practice"),
    ]);
    await userEvent.click(items[0] as HTMLElement);
    await waitFor(() =>
      expect(screen.getByTestId("active-organisation")).toHaveTextContent(MOCK_ORGANISATION),
    );
    expect(backend.calls.find((c) => c.method === "switchOrganisation")?.args).toEqual([1]);
  });
});

describe("Account → Security", () => {
  it("enrols with a code and shows the ten recovery codes once", async () => {
    const backend = new MockBackend();
    renderWithBackend(<SecurityPage />, backend);
    expect(await screen.findByTestId("mfa-state")).toHaveTextContent("Off");

    await userEvent.click(screen.getByTestId("mfa-enable"));
    expect(await screen.findByTestId("mfa-manual-key")).toHaveTextContent(/^[A-Z2-7]{16,}$/);
    expect(screen.getByTestId("mfa-otpauth-uri")).toHaveTextContent("otpauth://totp/");
    expect(screen.getByTestId("mfa-qr")).toHaveAttribute(
      "src",
      expect.stringMatching(/^data:image\/png;base64,/),
    );

    await userEvent.type(screen.getByTestId("mfa-confirm-code"), "000000");
    await userEvent.click(screen.getByTestId("mfa-confirm-submit"));
    expect(await screen.findByTestId("mfa-confirm-error")).toHaveTextContent(
      "That code is not valid.",
    );
    await userEvent.clear(screen.getByTestId("mfa-confirm-code"));
    await userEvent.type(screen.getByTestId("mfa-confirm-code"), MOCK_TOTP_CODE);
    await userEvent.click(screen.getByTestId("mfa-confirm-submit"));

    const codes = await screen.findAllByTestId("recovery-code");
    expect(codes).toHaveLength(10);
    const first = codes[0]?.textContent ?? "";
    expect(screen.getByTestId("recovery-done")).toBeDisabled();
    await userEvent.click(screen.getByTestId("recovery-saved"));
    await userEvent.click(screen.getByTestId("recovery-done"));

    expect(await screen.findByTestId("mfa-enabled")).toBeInTheDocument();
    expect(screen.getByTestId("mfa-state")).toHaveTextContent("On");
    expect(screen.getByTestId("recovery-remaining")).toHaveTextContent(
      "10 unused recovery codes left.",
    );
    expect(screen.queryByText(first)).not.toBeInTheDocument();
    expect(screen.queryByTestId("mfa-manual-key")).not.toBeInTheDocument();
    expect(methods(backend).filter((m) => m === "mfaConfirm")).toHaveLength(2);
  });

  it("turns two-factor authentication off only with a valid code", async () => {
    const backend = new MockBackend({ mfaEnrolled: true });
    renderWithBackend(<SecurityPage />, backend);
    await userEvent.type(await screen.findByTestId("mfa-disable-code"), "999999");
    await userEvent.click(screen.getByTestId("mfa-disable-submit"));
    expect(await screen.findByText(/That code is not valid/)).toBeInTheDocument();
    expect(screen.getByTestId("mfa-state")).toHaveTextContent("On");
    await userEvent.clear(screen.getByTestId("mfa-disable-code"));
    await userEvent.type(screen.getByTestId("mfa-disable-code"), MOCK_TOTP_CODE);
    await userEvent.click(screen.getByTestId("mfa-disable-submit"));
    await waitFor(() => expect(screen.getByTestId("mfa-state")).toHaveTextContent("Off"));
    expect(screen.getByTestId("mfa-enable")).toBeInTheDocument();
  });
});

describe("the integration gate", () => {
  it("without 2FA, says to enable it and links to Account → Security", async () => {
    renderWithBackend(<IntegrationsPage />, new MockBackend());
    await userEvent.click(await screen.findByTestId("connect-xpm"));
    const notice = await screen.findByTestId("mfa-required");
    expect(notice).toHaveTextContent("Enable two-factor authentication to connect to Xero");
    expect(within(notice).getByTestId("mfa-required-link")).toHaveAttribute(
      "href",
      "#/account/security",
    );
    expect(screen.queryByTestId("verify-code-input")).not.toBeInTheDocument();
  });

  it("asks for a code, verifies the session and retries the action", async () => {
    const backend = new MockBackend({ mfaEnrolled: true });
    renderWithBackend(<IntegrationsPage />, backend);
    await userEvent.click(await screen.findByTestId("connect-xpm"));

    const input = await screen.findByTestId("verify-code-input");
    await userEvent.type(input, "111111");
    await userEvent.click(screen.getByTestId("verify-code-submit"));
    expect(await screen.findByTestId("verify-code-error")).toHaveTextContent(
      "That code is not valid.",
    );
    expect(screen.getByTestId("xpm-status")).toHaveTextContent("Not connected");

    await userEvent.clear(input);
    await userEvent.type(input, MOCK_TOTP_CODE);
    await userEvent.click(screen.getByTestId("verify-code-submit"));

    // The retried connect goes through; the mock's Xero answers at once.
    await waitFor(() => expect(screen.getByTestId("xpm-status")).toHaveTextContent("Connected"));
    await waitFor(() => expect(screen.queryByTestId("verify-code-input")).not.toBeInTheDocument());
    expect(methods(backend).filter((m) => m === "xeroConnect" || m === "verifySession")).toEqual([
      "xeroConnect",
      "verifySession",
      "verifySession",
      "xeroConnect",
    ]);
  });
});

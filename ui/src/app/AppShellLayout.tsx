import { AppShell, Badge, Group, NavLink, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { IntegrationsPage } from "../account/IntegrationsPage";
import { SecurityPage } from "../account/SecurityPage";
import { UserMenu } from "../account/UserMenu";
import { AllEntitiesPage } from "../entities/AllEntitiesPage";
import { GroupPage } from "../groups/GroupPage";
import { GroupsPage } from "../groups/GroupsPage";
import { useBackend } from "../ipc/BackendProvider";
import { queryKeys } from "../queryKeys";
import { ImportGroupsPage } from "../xero/ImportGroupsPage";
import { StructureRulesPage } from "../xero/StructureRulesPage";
import { routeHref, useRoute } from "./router";

export function AppShellLayout() {
  const backend = useBackend();
  const route = useRoute();
  const info = useQuery({ queryKey: queryKeys.appInfo, queryFn: () => backend.appInfo() });

  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 210, breakpoint: 0 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Title order={3} c="indigo.8">
              StructureGram
            </Title>
            {info.data?.demo && (
              <Badge color="yellow" variant="light" data-testid="demo-badge">
                Demo practice
              </Badge>
            )}
          </Group>
          <Group gap="sm">
            {info.data && (
              <Text size="xs" c="dimmed">
                v{info.data.version}
              </Text>
            )}
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <NavLink
          href={routeHref({ page: "groups" })}
          label="Groups"
          active={route.page === "groups" || route.page === "group"}
          data-testid="nav-groups"
        />
        <NavLink
          href={routeHref({ page: "entities" })}
          label="All Entities"
          active={route.page === "entities"}
          data-testid="nav-entities"
        />
        <NavLink label="Data" defaultOpened childrenOffset="sm" data-testid="nav-data">
          <NavLink
            href={routeHref({ page: "importGroups" })}
            label="Import Groups from XPM"
            active={route.page === "importGroups"}
            data-testid="nav-import-groups"
          />
        </NavLink>
        <NavLink label="Account" defaultOpened childrenOffset="sm" data-testid="nav-account">
          <NavLink
            href={routeHref({ page: "security" })}
            label="Security"
            active={route.page === "security"}
            data-testid="nav-security"
          />
          <NavLink
            href={routeHref({ page: "integrations" })}
            label="Integrations"
            active={route.page === "integrations"}
            data-testid="nav-integrations"
          />
          <NavLink
            href={routeHref({ page: "structureRules" })}
            label="Structure rules"
            active={route.page === "structureRules"}
            data-testid="nav-structure-rules"
          />
        </NavLink>
      </AppShell.Navbar>
      <AppShell.Main>
        {route.page === "groups" && <GroupsPage />}
        {route.page === "group" && (
          <GroupPage key={route.groupId} groupId={route.groupId} tab={route.tab ?? "diagram"} />
        )}
        {route.page === "entities" && <AllEntitiesPage />}
        {route.page === "security" && <SecurityPage />}
        {route.page === "integrations" && <IntegrationsPage />}
        {route.page === "importGroups" && <ImportGroupsPage />}
        {route.page === "structureRules" && <StructureRulesPage />}
      </AppShell.Main>
    </AppShell>
  );
}

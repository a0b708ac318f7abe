import { Stack, Text, Title } from "@mantine/core";
import { EntitiesTable } from "./EntitiesTable";

export function AllEntitiesPage() {
  return (
    <Stack gap="sm">
      <div>
        <Title order={2}>All Entities</Title>
        <Text size="sm" c="dimmed">
          Every person, company, trust, partnership and fund in the practice, with the groups they
          belong to.
        </Text>
      </div>
      <EntitiesTable groupId={null} />
    </Stack>
  );
}

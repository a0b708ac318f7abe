import { Alert, Button, Center, Loader, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { ConfirmModal } from "../common/ConfirmModal";
import { ErrorState } from "../common/ErrorState";
import { ENTITY_KIND_LABEL, TRUST_TYPE_LABEL } from "../common/labels";
import { notifySuccess } from "../common/notify";
import type { StructureRule } from "../ipc/bindings/StructureRule";
import { formatDateTime } from "./format";
import { useDeleteStructureRule, useStructureRules } from "./pullApi";

/**
 * Account → Structure rules: the organisation's saved mappings of custom XPM business structures
 * to entity types (made with "Remember as a rule" while reviewing a pull). Deleting one makes
 * later pulls ask again for that structure.
 */
export function StructureRulesPage() {
  const rules = useStructureRules();
  const remove = useDeleteStructureRule();
  const [deleting, setDeleting] = useState<StructureRule | null>(null);

  return (
    <Stack maw={760}>
      <Title order={2}>Structure rules</Title>
      <Text size="sm">
        When a pull from XPM meets a business structure it does not recognise, it asks which entity
        type to create. Choices saved with &ldquo;Remember as a rule&rdquo; are listed here and
        apply to everyone in this organisation.
      </Text>
      {rules.isPending && (
        <Center p="xl">
          <Loader aria-label="Loading the structure rules" />
        </Center>
      )}
      {rules.isError && (
        <ErrorState
          title="Could not load the structure rules"
          error={rules.error}
          onRetry={() => void rules.refetch()}
        />
      )}
      {rules.data && rules.data.length === 0 && (
        <Alert color="gray" data-testid="rules-empty">
          No rules yet. They are saved from a pull&apos;s review list.
        </Alert>
      )}
      {rules.data && rules.data.length > 0 && (
        <Table data-testid="rules-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>XPM business structure</Table.Th>
              <Table.Th>Entity type</Table.Th>
              <Table.Th>Saved</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rules.data.map((r) => (
              <Table.Tr key={r.id} data-testid="rule-row">
                <Table.Td data-testid="rule-label">{r.label}</Table.Td>
                <Table.Td>
                  {ENTITY_KIND_LABEL[r.kind]}
                  {r.trustType ? ` (${TRUST_TYPE_LABEL[r.trustType]})` : ""}
                </Table.Td>
                <Table.Td>{formatDateTime(r.createdAt)}</Table.Td>
                <Table.Td>
                  <Button
                    size="xs"
                    variant="subtle"
                    color="red"
                    onClick={() => {
                      remove.reset();
                      setDeleting(r);
                    }}
                    aria-label={`Delete the rule for ${r.label}`}
                  >
                    Delete
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <ConfirmModal
        opened={deleting !== null}
        title="Delete this rule?"
        confirmLabel="Delete rule"
        onConfirm={() =>
          deleting &&
          remove.mutate(deleting.id, {
            onSuccess: () => {
              notifySuccess(`The rule for "${deleting.label}" is deleted.`);
              setDeleting(null);
            },
          })
        }
        onClose={() => setDeleting(null)}
        loading={remove.isPending}
        error={remove.error}
      >
        Later pulls will ask again which entity type &ldquo;{deleting?.label}&rdquo; is. Entities
        already created with it keep their type.
      </ConfirmModal>
    </Stack>
  );
}

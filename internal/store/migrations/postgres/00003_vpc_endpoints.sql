-- +goose Up
-- An identity's universal auth may be limited to given AWS VPC endpoints (PrivateLink
-- consumers): a JSON array of vpce-… ids, read at login and with every access token of the
-- identity; an empty array means any origin.
ALTER TABLE identity_universal_auths ADD COLUMN trusted_vpc_endpoint_ids TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE identity_universal_auths DROP COLUMN trusted_vpc_endpoint_ids;

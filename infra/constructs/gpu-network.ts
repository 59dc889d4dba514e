import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { InvalidPropError } from './errors.ts';

export interface GpuNetworkProps {
  /** The VPC's address range (a literal, so endpoint security group rules name it). @default '10.42.0.0/16' */
  readonly cidr?: string;
  /** Availability zones (GPU capacity is scarce: more zones, more chances). @default 2 */
  readonly maxAzs?: number;
  /** NAT gateways, for the traffic no endpoint covers. @default 1 */
  readonly natGateways?: number;
  /**
   * Interface endpoints for SQS, ECR (API and Docker), CloudWatch Logs and ECS (control plane, agent,
   * telemetry), so the worker's traffic and its image pulls stay off the NAT gateway. They cost an
   * hourly fee per zone; turn them off for a throwaway deployment. @default true
   */
  readonly interfaceEndpoints?: boolean;
  /** Retention of the VPC flow logs. @default RetentionDays.ONE_MONTH */
  readonly flowLogRetention?: RetentionDays;
}

/**
 * The GPU workers' network: private subnets with egress through NAT, gateway endpoints for
 * DynamoDB and S3 (free; ECR's image layers come from S3), interface endpoints for the rest of the
 * worker's AWS traffic, and flow logs.
 */
export class GpuNetwork extends Construct {
  readonly vpc: Vpc;

  constructor(scope: Construct, id: string, props: GpuNetworkProps = {}) {
    super(scope, id);
    const natGateways = props.natGateways ?? 1;
    if (!Number.isInteger(natGateways) || natGateways < 1) {
      throw new InvalidPropError(
        'GpuNetwork',
        'natGateways',
        String(natGateways),
        'use 1 or more: the private subnets need egress',
      );
    }
    const cidr = props.cidr ?? '10.42.0.0/16';
    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr(cidr),
      maxAzs: props.maxAzs ?? 2,
      natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: FlowLogDestination.toCloudWatchLogs(
        new LogGroup(this, 'FlowLogs', { retention: props.flowLogRetention ?? RetentionDays.ONE_MONTH }),
      ),
      trafficType: FlowLogTrafficType.REJECT,
    });
    const subnets = [{ subnetType: SubnetType.PRIVATE_WITH_EGRESS }];
    this.vpc.addGatewayEndpoint('DynamoDbEndpoint', {
      service: GatewayVpcEndpointAwsService.DYNAMODB,
      subnets,
    });
    this.vpc.addGatewayEndpoint('S3Endpoint', { service: GatewayVpcEndpointAwsService.S3, subnets });
    if (props.interfaceEndpoints ?? true) {
      // One security group for every interface endpoint: HTTPS from inside the VPC only.
      const endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'VPC interface endpoints: HTTPS from the VPC',
        allowAllOutbound: false,
      });
      endpointSecurityGroup.addIngressRule(Peer.ipv4(cidr), Port.tcp(443), 'HTTPS from the VPC');
      const services = {
        SqsEndpoint: InterfaceVpcEndpointAwsService.SQS,
        EcrApiEndpoint: InterfaceVpcEndpointAwsService.ECR,
        EcrDockerEndpoint: InterfaceVpcEndpointAwsService.ECR_DOCKER,
        LogsEndpoint: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
        EcsEndpoint: InterfaceVpcEndpointAwsService.ECS,
        EcsAgentEndpoint: InterfaceVpcEndpointAwsService.ECS_AGENT,
        EcsTelemetryEndpoint: InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
      };
      for (const [id, service] of Object.entries(services)) {
        this.vpc.addInterfaceEndpoint(id, {
          service,
          subnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
          securityGroups: [endpointSecurityGroup],
          open: false,
        });
      }
    }
  }
}

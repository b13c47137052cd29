# The batch-runner image (CloudFormation parameter RunnerImage): the one entrypoint for AWS Batch
# single-node and multi-node parallel jobs. Build context: dist/images/batch-runner, written by
# `pnpm package` (the bundled runner in lib/, its launcher in bin/):
#   docker build --build-arg BASE_IMAGE=<registry>/node:24-slim -t batch-runner dist/images/batch-runner
# The job's program (APP_BIN and its arguments) comes from the job definition's environment;
# the runner stages inputs, runs it, uploads outputs. Build your application image FROM this
# one, adding the program.
#
# BASE_IMAGE: any image with Node.js 24 as `node` on PATH and a POSIX sh (the launcher). The
# default is Docker Hub's official image through the ECR Public mirror; in AWS, point it at a
# copy in your own registry.
ARG BASE_IMAGE=public.ecr.aws/docker/library/node:24-slim
FROM ${BASE_IMAGE}

COPY lib/ /opt/spotjobs/lib/
COPY bin/ /opt/spotjobs/bin/
ENV PATH=/opt/spotjobs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Not root: the runner needs no privilege (an application that does can set USER in its own image).
USER 1000:1000
WORKDIR /tmp
# The runner is the container's main process: it gets Batch's SIGTERM and its exit code is the job's.
ENTRYPOINT ["spotjobs-batch-runner"]
